//! The TrackLab run log format.
