//! Format v1 constants and the pure encode/check functions for the file header and frames (no IO).

/// The eight bytes every run log starts with.
pub const MAGIC: [u8; 8] = *b"TRACKLAB";
/// The format version this crate writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// Length of the file header: magic, version, header checksum.
pub const HEADER_LEN: u64 = 16;
/// Length of a frame header: payload length, frame checksum.
pub const FRAME_HEADER_LEN: u64 = 8;
/// Largest payload a frame may carry (32 MiB). Lengths above it are never
/// trusted, so no reader allocates more than this for one frame.
pub const MAX_FRAME_LEN: u32 = 32 << 20;

/// The file header for format v1: `MAGIC`, `FORMAT_VERSION` (u32 LE), and the
/// CRC-32 of those 12 bytes (u32 LE).
pub fn encode_header() -> [u8; HEADER_LEN as usize] {
    let mut header = [0u8; HEADER_LEN as usize];
    header[..8].copy_from_slice(&MAGIC);
    header[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    let crc = crc32fast::hash(&header[..12]);
    header[12..16].copy_from_slice(&crc.to_le_bytes());
    header
}

/// What is wrong with a file header, in the order the checks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeaderProblem {
    BadMagic,
    UnsupportedVersion(u32),
    Checksum,
}

/// Checks a complete file header: magic first, then version (a newer version
/// may lay out its header differently, so its checksum is not judged), then
/// the checksum.
pub(crate) fn check_header(header: &[u8; HEADER_LEN as usize]) -> Result<(), HeaderProblem> {
    if header[..8] != MAGIC {
        return Err(HeaderProblem::BadMagic);
    }
    let version = read_u32(header, 8);
    if version != FORMAT_VERSION {
        return Err(HeaderProblem::UnsupportedVersion(version));
    }
    let stored = read_u32(header, 12);
    if stored != crc32fast::hash(&header[..12]) {
        return Err(HeaderProblem::Checksum);
    }
    Ok(())
}

/// The frame checksum: CRC-32/IEEE over the four little-endian length bytes
/// followed by the payload.
pub fn frame_crc(len_bytes: [u8; 4], payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&len_bytes);
    hasher.update(payload);
    hasher.finalize()
}

/// Appends one encoded frame (length, checksum, payload) to `out`. The caller
/// has checked that `payload` is 1..=`MAX_FRAME_LEN` bytes long.
pub(crate) fn encode_frame(payload: &[u8], out: &mut Vec<u8>) {
    debug_assert!(!payload.is_empty() && payload.len() <= MAX_FRAME_LEN as usize);
    let len_bytes = (payload.len() as u32).to_le_bytes();
    out.reserve(FRAME_HEADER_LEN as usize + payload.len());
    out.extend_from_slice(&len_bytes);
    out.extend_from_slice(&frame_crc(len_bytes, payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// Whether a decoded frame length may be trusted enough to read that many bytes.
pub(crate) fn len_in_bounds(len: u32) -> bool {
    (1..=MAX_FRAME_LEN).contains(&len)
}

/// Reads a little-endian u32 at `at`. Callers pass slices they have sized.
pub(crate) fn read_u32(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(word)
}
