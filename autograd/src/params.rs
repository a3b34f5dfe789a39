//! [`ParamStore`]: the model's numbers, kept outside the tape under stable names.
//!
//! The tape is rebuilt every step; parameters persist. Each step copies the
//! parameters it uses onto the tape as leaves ([`crate::Tape::param`]), and after
//! the reverse sweep their gradients are added back here
//! ([`crate::Tape::accumulate_param_grads`]) for the optimizer to use.
//! Names like `"flow.3.s_net.0.weight"` are what checkpoints are keyed by.
//!
//! A *buffer* is state that is saved but not trained (ActNorm's "initialized"
//! flag, for instance): the optimizer skips it and it gets no gradient.

use crate::float::Float;
use crate::tensor::Tensor;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A handle to one entry of a [`ParamStore`]: its index, handed out by the
/// store (never made up by a caller, so it always points at an entry).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParamId(usize);

/// One named value to load into a store (from a checkpoint, say).
#[derive(Clone, Copy, Debug)]
pub struct NamedValue<'a> {
    pub name: &'a str,
    pub shape: &'a [usize],
    /// Row-major, `shape`'s product long.
    pub values: &'a [f64],
}

/// One named tensor, its gradient, and whether the optimizer trains it.
#[derive(Clone, Debug)]
pub struct Param<F> {
    pub name: Arc<str>,
    pub value: Tensor<F>,
    pub grad: Tensor<F>,
    pub trainable: bool,
}

/// Named parameters and buffers, in the order they were added.
#[derive(Clone, Debug, Default)]
pub struct ParamStore<F> {
    params: Vec<Param<F>>,
    by_name: BTreeMap<Arc<str>, ParamId>,
}

impl<F: Float> ParamStore<F> {
    pub fn new() -> Self {
        ParamStore {
            params: Vec::new(),
            by_name: BTreeMap::new(),
        }
    }

    /// Adds a trainable parameter. Names must be unique (a duplicate is a bug in
    /// the model's construction, so it panics).
    pub fn add(&mut self, name: &str, value: Tensor<F>) -> ParamId {
        self.insert(name, value, true)
    }

    /// Adds saved, untrained state.
    pub fn add_buffer(&mut self, name: &str, value: Tensor<F>) -> ParamId {
        self.insert(name, value, false)
    }

    fn insert(&mut self, name: &str, value: Tensor<F>, trainable: bool) -> ParamId {
        assert!(
            !self.by_name.contains_key(name),
            "ParamStore: the name {name:?} is used twice"
        );
        let id = ParamId(self.params.len());
        let name: Arc<str> = Arc::from(name);
        let grad = Tensor::zeros(value.shape());
        self.params.push(Param {
            name: name.clone(),
            value,
            grad,
            trainable,
        });
        self.by_name.insert(name, id);
        id
    }

    pub fn id(&self, name: &str) -> Option<ParamId> {
        self.by_name.get(name).copied()
    }

    pub fn value(&self, id: ParamId) -> &Tensor<F> {
        &self.params[id.0].value
    }

    pub fn value_mut(&mut self, id: ParamId) -> &mut Tensor<F> {
        &mut self.params[id.0].value
    }

    pub fn grad(&self, id: ParamId) -> &Tensor<F> {
        &self.params[id.0].grad
    }

    pub fn grad_mut(&mut self, id: ParamId) -> &mut Tensor<F> {
        &mut self.params[id.0].grad
    }

    pub fn is_trainable(&self, id: ParamId) -> bool {
        self.params[id.0].trainable
    }

    pub fn name(&self, id: ParamId) -> &Arc<str> {
        &self.params[id.0].name
    }

    /// Replaces a value, keeping the shape (loading a checkpoint).
    pub fn set(&mut self, id: ParamId, value: Tensor<F>) -> Result<(), String> {
        let p = &mut self.params[id.0];
        if p.value.shape() != value.shape() {
            return Err(format!(
                "parameter {}: expected shape {:?}, got {:?}",
                p.name,
                p.value.shape(),
                value.shape()
            ));
        }
        p.value = value;
        Ok(())
    }

    /// Sets every entry of the store from `values`, matched by name. Refused, with
    /// a message naming the entry, and leaving the store unchanged: a name the
    /// store does not have, a name given twice, an entry left out, a shape that
    /// differs from the entry's, a value count that does not match the shape, and
    /// a non-finite value.
    pub fn load_named<'a>(
        &mut self,
        values: impl IntoIterator<Item = NamedValue<'a>>,
    ) -> Result<(), String> {
        let mut loaded: Vec<Option<Tensor<F>>> = vec![None; self.params.len()];
        for v in values {
            let Some(id) = self.id(v.name) else {
                return Err(format!(
                    "parameter {:?} does not belong to this model",
                    v.name
                ));
            };
            if loaded[id.0].is_some() {
                return Err(format!("parameter {:?} appears twice", v.name));
            }
            // Checked: a hand-edited shape like [2^62, 4] must be refused, not overflow.
            let size = v.shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
            if size != Some(v.values.len()) {
                return Err(format!(
                    "parameter {:?} has {} values for shape {:?}",
                    v.name,
                    v.values.len(),
                    v.shape
                ));
            }
            let expected = self.params[id.0].value.shape();
            if v.shape != expected {
                return Err(format!(
                    "parameter {:?}: expected shape {expected:?}, got {:?}",
                    v.name, v.shape
                ));
            }
            if v.values.iter().any(|x| !x.is_finite()) {
                return Err(format!("parameter {:?} holds a non-finite value", v.name));
            }
            loaded[id.0] = Some(Tensor::from_f64(v.values, v.shape));
        }
        if let Some(missing) = loaded.iter().position(Option::is_none) {
            return Err(format!(
                "parameter {:?} is missing",
                self.params[missing].name
            ));
        }
        for (p, value) in self.params.iter_mut().zip(loaded) {
            p.value = value.expect("every entry was checked above");
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.params.len()
    }

    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (ParamId, &Param<F>)> {
        self.params.iter().enumerate().map(|(i, p)| (ParamId(i), p))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Param<F>> {
        self.params.iter_mut()
    }

    /// How many trainable numbers the model has.
    pub fn num_trainable(&self) -> usize {
        self.params
            .iter()
            .filter(|p| p.trainable)
            .map(|p| p.value.len())
            .sum()
    }

    /// Sets every gradient to zero (before a new step's backward pass).
    pub fn zero_grads(&mut self) {
        for p in &mut self.params {
            p.grad.data.fill(F::ZERO);
        }
    }

    /// The same store in another float type (train in f32, check in f64).
    pub fn cast<G: Float>(&self) -> ParamStore<G> {
        let mut out = ParamStore::new();
        for p in &self.params {
            out.insert(&p.name, p.value.cast(), p.trainable);
        }
        out
    }
}
