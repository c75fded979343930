//! `tracklab export --to tensorboard RUN… DIR`: TensorBoard event files,
//! one folder per run (`DIR/<run id>/events.out.tfevents.<time>.tracklab`),
//! readable by TensorBoard and its `EventAccumulator`.
//!
//! Numbers become scalars (`simple_value`, float32, at the row's step and
//! wall time), `histogram` values become histograms (`bucket_limit` = the
//! right bin edges, `bucket` = counts), and `image-file` values (and each
//! image of `images/separated`, as `KEY/i`) become images with their PNG or
//! JPEG bytes from the blob store. Other media, strings and bools are not
//! exported; the summary line says how many values were left out. The
//! messages are the subset of tensorflow's `event.proto` / `summary.proto`
//! that this writes, with their field numbers.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use prost::Message;
use serde_json::Value as Json;
use tracklab_proto::v1::value::Kind;
use tracklab_proto::v1::{RunInfo, Series};

use super::tfrecord::write_record;
use crate::args::ExportArgs;
use crate::ctx::{Ctx, Outcome, pick_run};

#[derive(Clone, PartialEq, Message)]
pub struct Event {
    #[prost(double, tag = "1")]
    pub wall_time: f64,
    #[prost(int64, tag = "2")]
    pub step: i64,
    #[prost(string, optional, tag = "3")]
    pub file_version: Option<String>,
    #[prost(message, optional, tag = "5")]
    pub summary: Option<Summary>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Summary {
    #[prost(message, repeated, tag = "1")]
    pub value: Vec<SummaryValue>,
}

#[derive(Clone, PartialEq, Message)]
pub struct SummaryValue {
    #[prost(string, tag = "1")]
    pub tag: String,
    #[prost(float, optional, tag = "2")]
    pub simple_value: Option<f32>,
    #[prost(message, optional, tag = "4")]
    pub image: Option<Image>,
    #[prost(message, optional, tag = "5")]
    pub histo: Option<HistogramProto>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Image {
    #[prost(int32, tag = "1")]
    pub height: i32,
    #[prost(int32, tag = "2")]
    pub width: i32,
    #[prost(int32, tag = "3")]
    pub colorspace: i32,
    #[prost(bytes = "vec", tag = "4")]
    pub encoded_image_string: Vec<u8>,
}

#[derive(Clone, PartialEq, Message)]
pub struct HistogramProto {
    #[prost(double, tag = "1")]
    pub min: f64,
    #[prost(double, tag = "2")]
    pub max: f64,
    #[prost(double, tag = "3")]
    pub num: f64,
    #[prost(double, tag = "4")]
    pub sum: f64,
    #[prost(double, tag = "5")]
    pub sum_squares: f64,
    #[prost(double, repeated, tag = "6")]
    pub bucket_limit: Vec<f64>,
    #[prost(double, repeated, tag = "7")]
    pub bucket: Vec<f64>,
}

/// What one run's export wrote.
#[derive(Default, Debug)]
pub struct Written {
    pub path: PathBuf,
    pub scalars: u64,
    pub histograms: u64,
    pub images: u64,
    pub skipped: u64,
}

/// A wandb/TrackLab histogram value (`values`, `bins`) as TensorBoard's.
pub fn histogram(v: &Json) -> Option<HistogramProto> {
    let counts: Vec<f64> = v["values"]
        .as_array()?
        .iter()
        .filter_map(Json::as_f64)
        .collect();
    let edges: Vec<f64> = v["bins"]
        .as_array()?
        .iter()
        .filter_map(Json::as_f64)
        .collect();
    if counts.is_empty() || edges.len() != counts.len() + 1 {
        return None;
    }
    let centres: Vec<f64> = edges.windows(2).map(|w| (w[0] + w[1]) / 2.0).collect();
    Some(HistogramProto {
        min: edges[0],
        max: edges[edges.len() - 1],
        num: counts.iter().sum(),
        sum: counts.iter().zip(&centres).map(|(c, x)| c * x).sum(),
        sum_squares: counts.iter().zip(&centres).map(|(c, x)| c * x * x).sum(),
        bucket_limit: edges[1..].to_vec(),
        bucket: counts,
    })
}

/// Writes one run's event file under `dir`; `blob` reads a stored file's
/// bytes by its path in the run.
pub fn write_run(
    dir: &Path,
    run: &RunInfo,
    series: Vec<Series>,
    blob: &dyn Fn(&str) -> anyhow::Result<Vec<u8>>,
) -> anyhow::Result<Written> {
    let mut times: BTreeMap<i64, f64> = BTreeMap::new();
    let mut values: BTreeMap<i64, Vec<SummaryValue>> = BTreeMap::new();
    let mut w = Written::default();
    for s in &series {
        if s.key == "_timestamp" {
            for (st, v) in s.steps.iter().zip(&s.values) {
                if let Some(Kind::Float(t)) = v.kind {
                    times.insert(*st, t);
                }
            }
        }
    }
    for s in series {
        if s.key.starts_with('_') {
            continue;
        }
        for (step, v) in s.steps.into_iter().zip(s.values) {
            let mut put = |sv: SummaryValue| values.entry(step).or_default().push(sv);
            let scalar = |x: f64| SummaryValue {
                tag: s.key.clone(),
                simple_value: Some(x as f32),
                ..Default::default()
            };
            match v.kind {
                Some(Kind::Float(x)) => {
                    put(scalar(x));
                    w.scalars += 1;
                }
                Some(Kind::Int(i)) => {
                    put(scalar(i as f64));
                    w.scalars += 1;
                }
                Some(Kind::Json(text)) => {
                    let j: Json = serde_json::from_str(&text).unwrap_or(Json::Null);
                    match j["_type"].as_str() {
                        Some("histogram") => match histogram(&j) {
                            Some(h) => {
                                put(SummaryValue {
                                    tag: s.key.clone(),
                                    histo: Some(h),
                                    ..Default::default()
                                });
                                w.histograms += 1;
                            }
                            None => w.skipped += 1,
                        },
                        Some("image-file") => {
                            put(image(&s.key, &j, &j["path"], blob)?);
                            w.images += 1;
                        }
                        Some("images/separated") => {
                            let paths = j["filenames"].as_array().cloned().unwrap_or_default();
                            for (i, p) in paths.iter().enumerate() {
                                put(image(&format!("{}/{i}", s.key), &j, p, blob)?);
                                w.images += 1;
                            }
                        }
                        _ => w.skipped += 1,
                    }
                }
                _ => w.skipped += 1,
            }
        }
    }
    let run_dir = dir.join(&run.run_id);
    std::fs::create_dir_all(&run_dir).with_context(|| format!("creating {}", run_dir.display()))?;
    let start = run.created_us as f64 / 1e6;
    w.path = run_dir.join(format!(
        "events.out.tfevents.{}.tracklab",
        run.created_us / 1_000_000
    ));
    let mut out = Vec::new();
    let first = Event {
        wall_time: start,
        step: 0,
        file_version: Some("brain.Event:2".into()),
        summary: None,
    };
    write_record(&mut out, &first.encode_to_vec())?;
    for (step, vs) in values {
        let ev = Event {
            wall_time: times.get(&step).copied().unwrap_or(start),
            step,
            file_version: None,
            summary: Some(Summary { value: vs }),
        };
        write_record(&mut out, &ev.encode_to_vec())?;
    }
    let mut f =
        std::fs::File::create(&w.path).with_context(|| format!("creating {}", w.path.display()))?;
    f.write_all(&out)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("writing {}", w.path.display()))?;
    Ok(w)
}

fn image(
    tag: &str,
    j: &Json,
    path: &Json,
    blob: &dyn Fn(&str) -> anyhow::Result<Vec<u8>>,
) -> anyhow::Result<SummaryValue> {
    let path = path.as_str().context("an image value without a path")?;
    let bytes = blob(path)?;
    Ok(SummaryValue {
        tag: tag.to_string(),
        image: Some(Image {
            height: j["height"].as_i64().unwrap_or(0) as i32,
            width: j["width"].as_i64().unwrap_or(0) as i32,
            colorspace: 3,
            encoded_image_string: bytes,
        }),
        ..Default::default()
    })
}

/// `--to tensorboard`: the output dir is `-o DIR`, or the last argument.
pub fn export(ctx: &Ctx, mut args: ExportArgs) -> anyhow::Result<Outcome> {
    let dir = match args.output.take() {
        Some(d) => d,
        None if args.runs.len() >= 2 => {
            std::path::PathBuf::from(args.runs.pop().unwrap_or_default())
        }
        None => {
            return Err(crate::ctx::UsageError(
                "export --to tensorboard needs a folder: `tracklab export --to tensorboard RUN… DIR`".into(),
            )
            .into());
        }
    };
    let blobs = tracklab_blobs::BlobStore::open(&ctx.data_dir.join("blobs"))
        .with_context(|| format!("opening the blob store of {}", ctx.data_dir.display()))?;
    let written = ctx.block_on(async {
        let conn = ctx.connect().await?;
        let all = ctx.all_runs(&conn).await?;
        let mut out = Vec::new();
        for wanted in &args.runs {
            let run = pick_run(&all, wanted)?.clone();
            let series = crate::export::history(&conn, &run.run_id, &args.keys).await?;
            let files: std::collections::BTreeMap<String, String> = run
                .files
                .iter()
                .filter(|f| !f.digest.is_empty())
                .map(|f| (f.path.clone(), f.digest.clone()))
                .collect();
            let read = |path: &str| -> anyhow::Result<Vec<u8>> {
                let digest = files
                    .get(path)
                    .with_context(|| format!("run {} has no stored file {path}", run.run_id))?;
                let d = tracklab_blobs::Digest::from_hex(digest)
                    .map_err(|e| anyhow::anyhow!("bad digest {e} for {path}"))?;
                blobs
                    .read(&d)
                    .with_context(|| format!("reading {path} of run {}", run.run_id))
            };
            let w = write_run(&dir, &run, series, &read)?;
            out.push((run.run_id.clone(), w));
        }
        anyhow::Ok(out)
    })?;
    for (id, w) in &written {
        eprintln!(
            "{id}: {} scalars, {} histograms, {} images -> {}{}",
            w.scalars,
            w.histograms,
            w.images,
            w.path.display(),
            if w.skipped > 0 {
                format!(" ({} other values not exported)", w.skipped)
            } else {
                String::new()
            }
        );
    }
    eprintln!("view them with: tensorboard --logdir {}", dir.display());
    Ok(Outcome::Ok)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn histograms_keep_counts_and_right_edges() {
        let h =
            histogram(&json!({"_type": "histogram", "values": [1, 3], "bins": [0.0, 1.0, 2.0]}))
                .unwrap();
        assert_eq!(h.bucket, [1.0, 3.0]);
        assert_eq!(h.bucket_limit, [1.0, 2.0]);
        assert_eq!((h.min, h.max, h.num), (0.0, 2.0, 4.0));
        assert!((h.sum - (0.5 + 4.5)).abs() < 1e-12);
        assert!(histogram(&json!({"values": [1], "bins": [0.0]})).is_none());
    }
}
