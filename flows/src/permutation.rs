//! Fixed permutations of the dimensions: z[:, j] = x[:, π(j)].
//!
//! A permutation matrix has determinant ±1, so log|det| = 0. Its inverse is the
//! inverse permutation. Between coupling layers a permutation lets every
//! dimension take its turn being transformed.

use crate::flow::{zero_logdet, Flow};
use autograd::{Float, ParamId, ParamStore, Tensor, Value};
use rand::seq::SliceRandom;
use rand::Rng;
use std::sync::Arc;

/// Where a permutation came from: what its name says in figures and printouts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PermutationKind {
    /// The dimensions in reverse order.
    Reverse,
    /// Drawn uniformly at random, then fixed.
    Random,
    /// Given as a list of indices.
    Given,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Permutation {
    /// z[:, j] = x[:, forward[j]]
    forward: Arc<[usize]>,
    /// x[:, i] = z[:, inverse[i]]
    inverse: Arc<[usize]>,
    pub kind: PermutationKind,
    /// Where the indices are saved in the parameter store, once registered.
    saved_as: Option<ParamId>,
}

impl Permutation {
    /// Any permutation, given as the list π with z[:, j] = x[:, π(j)].
    pub fn from_indices(indices: Vec<usize>, kind: PermutationKind) -> Result<Self, String> {
        let d = indices.len();
        let mut inverse = vec![usize::MAX; d];
        for (j, &i) in indices.iter().enumerate() {
            if i >= d || inverse[i] != usize::MAX {
                return Err(format!("{indices:?} is not a permutation of 0..{d}"));
            }
            inverse[i] = j;
        }
        Ok(Permutation {
            forward: indices.into(),
            inverse: inverse.into(),
            kind,
            saved_as: None,
        })
    }

    /// Reverses the order of the dimensions.
    pub fn reverse(dim: usize) -> Self {
        Self::from_indices((0..dim).rev().collect(), PermutationKind::Reverse)
            .expect("a reversal is a permutation")
    }

    /// A uniformly random permutation (fixed once drawn).
    pub fn random<R: Rng + ?Sized>(dim: usize, rng: &mut R) -> Self {
        let mut idx: Vec<usize> = (0..dim).collect();
        idx.shuffle(rng);
        Self::from_indices(idx, PermutationKind::Random).expect("a shuffle is a permutation")
    }

    /// Saves the indices as a buffer `{prefix}.indices` so checkpoints keep them.
    pub fn registered<F: Float>(mut self, store: &mut ParamStore<F>, prefix: &str) -> Self {
        let values: Vec<f64> = self.forward.iter().map(|&i| i as f64).collect();
        let id = store.add_buffer(
            &format!("{prefix}.indices"),
            Tensor::from_f64(&values, &[values.len()]),
        );
        self.saved_as = Some(id);
        self
    }

    /// Takes the indices back from the store (after a checkpoint was loaded).
    pub fn reload<F: Float>(&mut self, store: &ParamStore<F>) -> Result<(), String> {
        let Some(id) = self.saved_as else {
            return Ok(());
        };
        let indices: Vec<usize> = store
            .value(id)
            .data()
            .iter()
            .map(|v| v.to_f64())
            .map(|v| {
                if v >= 0.0 && v.fract() == 0.0 {
                    Ok(v as usize)
                } else {
                    Err(format!("{v} is not an index"))
                }
            })
            .collect::<Result<_, _>>()?;
        let fresh = Self::from_indices(indices, self.kind)?;
        self.forward = fresh.forward;
        self.inverse = fresh.inverse;
        Ok(())
    }

    pub fn indices(&self) -> &[usize] {
        &self.forward
    }
}

impl<F: Float> Flow<F> for Permutation {
    fn forward<V: Value<F>>(&self, _: &ParamStore<F>, x: &V) -> (V, V) {
        (x.gather_cols(&self.forward), zero_logdet(x))
    }

    fn inverse<V: Value<F>>(&self, _: &ParamStore<F>, z: &V) -> (V, V) {
        (z.gather_cols(&self.inverse), zero_logdet(z))
    }

    fn initialize(&self, _: &mut ParamStore<F>, _: &Tensor<F>) {}

    fn name(&self) -> String {
        match self.kind {
            PermutationKind::Reverse => "reverse".into(),
            PermutationKind::Random | PermutationKind::Given => "permute".into(),
        }
    }
}
