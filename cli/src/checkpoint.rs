//! The checkpoint: one JSON file with everything needed to rebuild a model.
//!
//! ```json
//! {
//!   "format": "flows-checkpoint",
//!   "version": 1,
//!   "precision": "f32",
//!   "config":   { "dim": 2, "kind": "affine", "layers": 8, … },   // FlowConfig
//!   "training": { "data": "moons", "steps": 2000, … },            // how it was trained
//!   "result":   { "best_step": 1450, "train_nll": 0.31, "heldout_nll": 0.35 },
//!   "params":   [ { "name": "flow.0.shift", "shape": [2], "trainable": true,
//!                   "values": [0.49, 0.25] }, … ]
//! }
//! ```
//!
//! `params` holds every entry of the parameter store, trained or not: the
//! standardization's mean and std, ActNorm's `initialized` flags, LU signs and
//! permutations. Values are written as f64 (exact for f32 models). Files are
//! written atomically, so an interrupted save never corrupts the last one.

use crate::error::{fail, CliError, Result};
use crate::limits;
use autograd::{Float, NamedValue, ParamStore};
use flows::names::serde_name;
use flows::{FlowConfig, FlowModel, Precision, Schedule};
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const FORMAT: &str = "flows-checkpoint";
pub const VERSION: u32 = 1;

#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    pub format: String,
    pub version: u32,
    #[serde(with = "serde_name")]
    pub precision: Precision,
    pub config: FlowConfig,
    pub training: TrainingRecord,
    pub result: TrainResult,
    /// What a variational fit (`cli vi`) found; absent for density training.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variational: Option<VariationalRecord>,
    pub params: Vec<SavedParam>,
}

/// The target of a variational fit and how close the flow came to it, from
/// fresh samples of the saved model (`null` where not finite or not known).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct VariationalRecord {
    /// The target's spec (`u2`, `mixture:k=8,radius=3,std=0.3`).
    pub target: String,
    pub beta_start: f64,
    pub anneal: f64,
    /// Samples behind the numbers below.
    pub samples: usize,
    pub elbo: Option<f64>,
    pub elbo_se: Option<f64>,
    /// log Z of the target, where known (closed form or quadrature).
    pub log_z: Option<f64>,
    /// KL(q‖p) = log Z − ELBO, where log Z is known.
    pub kl: Option<f64>,
    pub log_z_is: Option<f64>,
    pub ess_fraction: Option<f64>,
}

/// How the model was trained: enough to describe the run and repeat it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TrainingRecord {
    /// The data set's description (`moons (noise 0.05, 3000 points)`) or file.
    pub data: String,
    pub train_points: usize,
    pub heldout_points: usize,
    /// Steps taken.
    pub steps: usize,
    pub batch: usize,
    pub lr: f64,
    #[serde(with = "serde_name")]
    pub schedule: Schedule,
    pub clip: f64,
    pub seed: u64,
    pub seconds: f64,
    /// Set if the kept model was trained again on the training and held-out
    /// points together (this many) for `best_step` steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refit_points: Option<usize>,
    /// The input-noise level of the kept model's training (standard
    /// deviations per column; the one the held-out points chose if several
    /// were tried).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_noise: Option<f64>,
}

/// The NLLs in nats per point: of the kept model on the training points, and
/// of the model selected at `best_step` on the held-out points (the same
/// model unless it was refit on all points, whose held-out NLL would no
/// longer be a held-out one); in nats per point; `null` where not finite (JSON
/// has no infinity), which a reader accepts: such a model still loads.
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct TrainResult {
    pub best_step: usize,
    pub train_nll: Option<f64>,
    pub heldout_nll: Option<f64>,
}

impl TrainResult {
    pub fn new(best_step: usize, train_nll: f64, heldout_nll: f64) -> Self {
        let finite = |x: f64| x.is_finite().then_some(x);
        TrainResult {
            best_step,
            train_nll: finite(train_nll),
            heldout_nll: finite(heldout_nll),
        }
    }
}

/// An NLL to 4 decimals, or what it is when not finite.
pub fn show_nll(nll: Option<f64>) -> String {
    nll.map_or("not finite".into(), |v| format!("{v:.4}"))
}

#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct SavedParam {
    pub name: String,
    pub shape: Vec<usize>,
    pub trainable: bool,
    pub values: Vec<f64>,
}

impl Checkpoint {
    pub fn new<F: Float>(
        model: &FlowModel,
        store: &ParamStore<F>,
        training: TrainingRecord,
        result: TrainResult,
    ) -> Self {
        let params = store
            .iter()
            .map(|(_, p)| SavedParam {
                name: p.name.to_string(),
                shape: p.value.shape().to_vec(),
                trainable: p.trainable,
                values: p.value.to_f64_vec(),
            })
            .collect();
        Checkpoint {
            format: FORMAT.into(),
            version: VERSION,
            precision: Precision::of::<F>(),
            config: model.config.clone(),
            training,
            result,
            variational: None,
            params,
        }
    }

    /// The checkpoint as JSON bytes, to be written to `path`.
    pub fn to_json(&self, path: &Path) -> Result<Vec<u8>> {
        serde_json::to_vec(self)
            .map_err(|e| CliError::new(format!("{}: cannot encode: {e}", path.display())))
    }

    /// Reads and checks a checkpoint file: its format and version first (so a
    /// newer file gets a clear message rather than a complaint about some
    /// field it changed), then every field strictly: unknown fields, unknown
    /// names and duplicate keys are errors.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = read_checkpoint_file(path)?;
        Self::from_bytes(&bytes, path)
    }

    /// [`Checkpoint::load`] on the bytes of the file `path`.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self> {
        let shown = path.display();
        // A UTF-8 byte-order mark (some editors add one) is not part of the JSON.
        let json = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
        let head: serde_json::Value = serde_json::from_slice(json).map_err(|e| {
            CliError::new(format!(
                "{shown}: not a valid checkpoint (corrupt or truncated JSON: {e})"
            ))
        })?;
        if head.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
            fail!("{shown}: not a flows checkpoint (no \"format\": \"{FORMAT}\" field)");
        }
        match head.get("version") {
            Some(v) if v.as_u64() == Some(VERSION as u64) => {}
            Some(v) if v.is_u64() => fail!("{shown}: checkpoint version {v} is not supported (this build reads version {VERSION})"),
            Some(v) => fail!("{shown}: checkpoint version {v} is not a whole number (this build reads version {VERSION})"),
            None => fail!("{shown}: checkpoint has no \"version\" field"),
        }
        drop(head);
        // Parsed again from the bytes, strictly: a `Value` would have kept
        // only the last of two duplicate keys.
        let ckpt: Checkpoint = serde_json::from_slice(json)
            .map_err(|e| CliError::new(format!("{shown}: not a valid checkpoint: {e}")))?;
        ckpt.config
            .validate()
            .map_err(|e| CliError::new(format!("{shown}: invalid model configuration: {e}")))?;
        limits::check_model(path, &ckpt.config)?;
        Ok(ckpt)
    }

    /// Rebuilds the model and its parameters in precision `F`. Every parameter
    /// of the architecture must be present with the right shape and finite values.
    pub fn restore<F: Float>(&self, path: &Path) -> Result<(FlowModel, ParamStore<F>)> {
        let shown = path.display();
        let mut store = ParamStore::new();
        let mut model = FlowModel::new(self.config.clone(), &mut store)
            .map_err(|e| CliError::new(format!("{shown}: invalid model configuration: {e}")))?;
        let values = self.params.iter().map(|p| NamedValue {
            name: &p.name,
            shape: &p.shape,
            values: &p.values,
        });
        store
            .load_named(values)
            .map_err(|e| CliError::new(format!("{shown}: {e}")))?;
        model
            .reload_cached_state(&store)
            .map_err(|e| CliError::new(format!("{shown}: {e}")))?;
        Ok((model, store))
    }
}

/// The bytes of a checkpoint file: a regular file, of a size this machine
/// can hold (a FIFO would block; a device could never end).
fn read_checkpoint_file(path: &Path) -> Result<Vec<u8>> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => CliError::new(format!("{shown}: no such checkpoint file")),
        _ => CliError::new(format!("{shown}: cannot read: {e}")),
    })?;
    if !meta.is_file() {
        fail!("{shown}: not a regular file, so not a checkpoint");
    }
    if let Some(budget) = limits::budget() {
        if meta.len() > budget / 4 {
            fail!(
                "{shown}: {} is too large for a checkpoint this machine could load",
                limits::human(meta.len())
            );
        }
    }
    std::fs::read(path).map_err(|e| CliError::new(format!("{shown}: cannot read: {e}")))
}

/// The reader against arbitrary and damaged input: whatever the bytes, it
/// returns a checkpoint or an error, and never panics; a checkpoint it
/// accepts can be restored (or refused) without a panic too.
#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    /// A real checkpoint of a small model with LU mixing and a random permutation.
    fn valid() -> Vec<u8> {
        let mut store = ParamStore::<f32>::new();
        let config = FlowConfig {
            layers: 2,
            hidden: 3,
            mixing: flows::Mixing::Lu,
            ..FlowConfig::new(3)
        };
        let model = FlowModel::new(config, &mut store).unwrap();
        let training = TrainingRecord {
            data: "test".into(),
            train_points: 1,
            heldout_points: 1,
            steps: 1,
            batch: 1,
            lr: 1e-3,
            schedule: Schedule::Cosine,
            clip: 1.0,
            seed: 0,
            seconds: 0.0,
            refit_points: None,
            input_noise: None,
        };
        let ckpt = Checkpoint::new(&model, &store, training, TrainResult::new(0, 1.0, f64::NAN));
        ckpt.to_json(Path::new("x")).unwrap()
    }

    fn load_and_restore(bytes: &[u8]) {
        let path = Path::new("fuzz.json");
        if let Ok(ckpt) = Checkpoint::from_bytes(bytes, path) {
            let _ = ckpt.restore::<f64>(path);
        }
    }

    #[test]
    fn the_valid_checkpoint_loads() {
        let bytes = valid();
        let ckpt = Checkpoint::from_bytes(&bytes, Path::new("x")).unwrap();
        ckpt.restore::<f64>(Path::new("x")).unwrap();
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            load_and_restore(&bytes);
        }

        /// A valid file with bytes overwritten, inserted or cut: the typical
        /// damage of a bad copy or an edit.
        #[test]
        fn damaged_checkpoints_never_panic(
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 1..8)
        ) {
            let mut bytes = valid();
            for (at, byte, kind) in edits {
                let i = at.index(bytes.len());
                match kind {
                    0 => bytes[i] = byte,
                    1 => bytes.insert(i, byte),
                    _ => bytes.truncate(i.max(1)),
                }
            }
            load_and_restore(&bytes);
        }

        /// A valid file with one number replaced by an extreme value.
        #[test]
        fn extreme_numbers_never_panic(
            which in any::<prop::sample::Index>(),
            value in prop_oneof![Just("1e308"), Just("-1e308"), Just("0"), Just("-0"), Just("1e-320"),
                                 Just("18446744073709551615"), Just("-1"), Just("4294967296"), Just("0.5")]
        ) {
            let text = String::from_utf8(valid()).unwrap();
            let numbers: Vec<(usize, usize)> = text
                .match_indices(|c: char| c.is_ascii_digit())
                .map(|(i, _)| i)
                .fold(Vec::new(), |mut spans: Vec<(usize, usize)>, i| {
                    match spans.last_mut() {
                        Some((_, end)) if *end == i => *end = i + 1,
                        _ => spans.push((i, i + 1)),
                    }
                    spans
                });
            let (start, end) = numbers[which.index(numbers.len())];
            let edited = format!("{}{}{}", &text[..start], value, &text[end..]);
            load_and_restore(edited.as_bytes());
        }
    }
}
