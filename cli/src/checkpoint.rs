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
use crate::files::write_file;
use autograd::{Float, ParamStore, Tensor};
use flows::{FlowConfig, FlowModel};
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const FORMAT: &str = "flows-checkpoint";
pub const VERSION: u32 = 1;

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Checkpoint {
    pub format: String,
    pub version: u32,
    pub precision: String,
    pub config: FlowConfig,
    pub training: serde_json::Value,
    pub result: TrainResult,
    pub params: Vec<SavedParam>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct TrainResult {
    pub best_step: usize,
    pub train_nll: f64,
    pub heldout_nll: f64,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
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
        training: serde_json::Value,
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
            precision: F::NAME.into(),
            config: model.config.clone(),
            training,
            result,
            params,
        }
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_vec(self)
            .map_err(|e| CliError(format!("{}: cannot encode: {e}", path.display())))?;
        write_file(path, &json)
    }

    /// Reads and checks a checkpoint file (format, version, structure).
    pub fn load(path: &Path) -> Result<Self> {
        let shown = path.display();
        let bytes = std::fs::read(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => CliError(format!("{shown}: no such checkpoint file")),
            _ => CliError(format!("{shown}: cannot read: {e}")),
        })?;
        // Look at format and version first, so a newer file gets a clear message
        // rather than a complaint about some field it changed.
        let head: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
            CliError(format!(
                "{shown}: not a valid checkpoint (corrupt or truncated JSON: {e})"
            ))
        })?;
        if head.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
            fail!("{shown}: not a flows checkpoint (no \"format\": \"{FORMAT}\" field)");
        }
        match head.get("version").and_then(|v| v.as_u64()) {
            Some(v) if v == VERSION as u64 => {}
            Some(v) => fail!("{shown}: checkpoint version {v} is not supported (this build reads version {VERSION})"),
            None => fail!("{shown}: checkpoint has no version number"),
        }
        let ckpt: Checkpoint = serde_json::from_value(head)
            .map_err(|e| CliError(format!("{shown}: not a valid checkpoint: {e}")))?;
        ckpt.config
            .validate()
            .map_err(|e| CliError(format!("{shown}: invalid model configuration: {e}")))?;
        Ok(ckpt)
    }

    /// Rebuilds the model and its parameters in precision `F`. Every parameter
    /// of the architecture must be present with the right shape and finite values.
    pub fn restore<F: Float>(&self, path: &Path) -> Result<(FlowModel, ParamStore<F>)> {
        let shown = path.display();
        let mut store = ParamStore::new();
        let mut model = FlowModel::new(self.config.clone(), &mut store)
            .map_err(|e| CliError(format!("{shown}: invalid model configuration: {e}")))?;
        let mut seen = vec![false; store.len()];
        for saved in &self.params {
            let Some(id) = store.id(&saved.name) else {
                fail!(
                    "{shown}: parameter {:?} does not belong to this architecture",
                    saved.name
                );
            };
            if seen[id.0] {
                fail!("{shown}: parameter {:?} appears twice", saved.name);
            }
            // Checked: a hand-edited shape like [2^62, 4] must be refused, not overflow.
            let size = saved
                .shape
                .iter()
                .try_fold(1usize, |n, &d| n.checked_mul(d));
            if size != Some(saved.values.len()) {
                fail!(
                    "{shown}: parameter {:?} has {} values for shape {:?}",
                    saved.name,
                    saved.values.len(),
                    saved.shape
                );
            }
            if saved.values.iter().any(|v| !v.is_finite()) {
                fail!(
                    "{shown}: parameter {:?} holds a non-finite value",
                    saved.name
                );
            }
            store
                .set(id, Tensor::from_f64(&saved.values, &saved.shape))
                .map_err(|e| CliError(format!("{shown}: {e}")))?;
            seen[id.0] = true;
        }
        if let Some(missing) = seen.iter().position(|s| !s) {
            fail!(
                "{shown}: parameter {:?} is missing",
                store.name(autograd::ParamId(missing))
            );
        }
        model
            .reload_cached_state(&store)
            .map_err(|e| CliError(format!("{shown}: {e}")))?;
        Ok((model, store))
    }
}
