//! The tape (a Wengert list): every value computed in a step, in order, with the
//! op and inputs that produced it. [`Var`] is a cheap `Copy` handle to one entry.
//!
//! Recording is the forward pass: each op appends a node holding its result.
//! [`Tape::backward`] (in `backward.rs`) then walks the list once in reverse.
//!
//! **Buffer reuse** (the one performance trick of this file): a training loop
//! records the same program every step, so [`Tape::reset`] rewinds the list
//! instead of freeing it. Node *i* of the next step reuses node *i*'s value
//! buffer, which already has the right capacity; gradient buffers go to a spare
//! pile and are reused too. After the first step a training step allocates
//! nothing on the tape, and memory stays flat however many steps run.

use crate::float::Float;
use crate::op::Op;
use crate::params::{ParamId, ParamStore};
use crate::tensor::{Shape, Tensor};
use smallvec::SmallVec;
use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

/// Position of a node on its tape.
pub type NodeId = usize;

/// One entry of the Wengert list: `value = op(inputs)`.
#[derive(Clone, Debug)]
pub struct Node<F> {
    pub op: Op<F>,
    pub inputs: SmallVec<[NodeId; 2]>,
    pub value: Tensor<F>,
    /// Whether any gradient can reach a variable or parameter through this node;
    /// the reverse sweep skips everything else (data, masks, constants).
    pub requires_grad: bool,
    /// A name to print (parameters and named inputs).
    pub label: Option<Arc<str>>,
}

impl<F: Float> Node<F> {
    fn empty() -> Self {
        Node {
            op: Op::Constant,
            inputs: SmallVec::new(),
            value: Tensor::default(),
            requires_grad: false,
            label: None,
        }
    }
}

pub(crate) struct TapeInner<F> {
    /// `nodes[..len]` is this step's program; later entries keep buffers for reuse.
    pub(crate) nodes: Vec<Node<F>>,
    pub(crate) len: usize,
    /// `grads[i]` is ∂loss/∂(node i) while the sweep needs it (and for leaves after).
    pub(crate) grads: Vec<Option<Vec<F>>>,
    /// Gradient buffers not in use, kept to be handed out again.
    pub(crate) spare: Vec<Vec<F>>,
}

/// A tape of recorded operations. Ops are recorded through `&Tape` (interior
/// mutability), so many [`Var`]s can refer to it at once.
pub struct Tape<F: Float> {
    pub(crate) inner: RefCell<TapeInner<F>>,
    /// Whether a dense layer is recorded as one fused op (see [`Tape::unfused`]).
    pub(crate) fuses: bool,
}

impl<F: Float> Default for Tape<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: Float> Tape<F> {
    pub fn new() -> Self {
        Tape {
            inner: RefCell::new(TapeInner {
                nodes: Vec::new(),
                len: 0,
                grads: Vec::new(),
                spare: Vec::new(),
            }),
            fuses: true,
        }
    }

    /// A tape that records every dense layer act(x·W + b) as the three ops it
    /// is made of (matmul, add, act) instead of one fused `Op::Dense`: the same
    /// numbers to the last bit, more nodes and memory, and a program that
    /// shows each step of the calculus (`cli tape` prints one).
    pub fn unfused() -> Self {
        Tape {
            fuses: false,
            ..Tape::new()
        }
    }

    /// Forgets the recorded program but keeps every buffer for the next one.
    /// Taking `&mut self` guarantees no [`Var`] of the old program survives.
    pub fn reset(&mut self) {
        let t = self.inner.get_mut();
        t.len = 0;
        for slot in t.grads.iter_mut() {
            if let Some(buffer) = slot.take() {
                t.spare.push(buffer);
            }
        }
    }

    /// How many nodes are recorded.
    pub fn len(&self) -> usize {
        self.inner.borrow().len
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held by all value and gradient buffers, live or kept for reuse.
    pub fn capacity_bytes(&self) -> usize {
        let t = self.inner.borrow();
        let values: usize = t.nodes.iter().map(|n| n.value.data.capacity()).sum();
        let grads: usize = t.grads.iter().flatten().map(Vec::capacity).sum();
        let spare: usize = t.spare.iter().map(Vec::capacity).sum();
        (values + grads + spare) * std::mem::size_of::<F>()
    }

    /// A leaf holding a copy of `value` that receives no gradient (data, masks).
    pub fn constant(&self, value: &Tensor<F>) -> Var<'_, F> {
        self.leaf(Op::Constant, value, false, None)
    }

    /// A named constant (the name shows in printed tapes).
    pub fn constant_named(&self, name: &str, value: &Tensor<F>) -> Var<'_, F> {
        self.leaf(Op::Constant, value, false, Some(Arc::from(name)))
    }

    /// A leaf whose gradient can be read after [`Tape::backward`] with [`Var::grad`].
    pub fn variable(&self, value: &Tensor<F>) -> Var<'_, F> {
        self.leaf(Op::Variable, value, true, None)
    }

    pub fn variable_named(&self, name: &str, value: &Tensor<F>) -> Var<'_, F> {
        self.leaf(Op::Variable, value, true, Some(Arc::from(name)))
    }

    /// A parameter of `store`, copied onto the tape; its gradient is returned to the
    /// store by [`Tape::accumulate_param_grads`]. Buffers get no gradient.
    pub fn param(&self, store: &ParamStore<F>, id: ParamId) -> Var<'_, F> {
        self.leaf(
            Op::Param(id),
            store.value(id),
            store.is_trainable(id),
            Some(store.name(id).clone()),
        )
    }

    fn leaf(
        &self,
        op: Op<F>,
        value: &Tensor<F>,
        requires_grad: bool,
        label: Option<Arc<str>>,
    ) -> Var<'_, F> {
        let mut t = self.inner.borrow_mut();
        let id = t.len;
        if id == t.nodes.len() {
            t.nodes.push(Node::empty());
        }
        let node = &mut t.nodes[id];
        node.value.reset_to(value.shape());
        node.value.data.copy_from_slice(value.data());
        node.op = op;
        node.inputs.clear();
        node.requires_grad = requires_grad;
        node.label = label;
        t.len += 1;
        Var { id, tape: self }
    }

    /// Appends `op(inputs)`, computing its value now (the forward pass).
    pub(crate) fn record(&self, op: Op<F>, inputs: &[NodeId]) -> NodeId {
        let mut guard = self.inner.borrow_mut();
        let t = &mut *guard;
        let id = t.len;
        if id == t.nodes.len() {
            t.nodes.push(Node::empty());
        }
        let (earlier, rest) = t.nodes.split_at_mut(id);
        let node = &mut rest[0];
        let xs: SmallVec<[&Tensor<F>; 4]> = inputs.iter().map(|&i| &earlier[i].value).collect();
        let shape = op.output_shape(&xs);
        node.value.reset_to(&shape);
        op.forward(&xs, &mut node.value.data);
        node.requires_grad = inputs.iter().any(|&i| earlier[i].requires_grad);
        node.inputs.clear();
        node.inputs.extend_from_slice(inputs);
        node.op = op;
        node.label = None;
        t.len += 1;
        id
    }

    /// A copy of node `id`'s value.
    pub fn value_of(&self, id: NodeId) -> Tensor<F> {
        self.inner.borrow().nodes[id].value.clone()
    }

    /// Calls `f` with node `id`'s value, without copying it.
    pub fn with_value<R>(&self, id: NodeId, f: impl FnOnce(&Tensor<F>) -> R) -> R {
        f(&self.inner.borrow().nodes[id].value)
    }

    /// ∂loss/∂(node `id`) after [`Tape::backward`], if a gradient reached it and
    /// was kept (leaves keep theirs; intermediate gradients are recycled as soon as
    /// the sweep has passed them).
    pub fn grad_of(&self, id: NodeId) -> Option<Tensor<F>> {
        let t = self.inner.borrow();
        let g = t.grads.get(id)?.as_ref()?;
        Some(Tensor::new(g.clone(), t.nodes[id].value.shape()))
    }

    /// The step protocol in one call: clears `store`'s gradients, runs the
    /// reverse sweep from `loss`, and adds every parameter leaf's gradient into
    /// its entry of `store`, ready for an optimizer step. (The three calls it
    /// makes stay public for readers who want to see the parts.)
    pub fn backward_into(&self, loss: Var<'_, F>, store: &mut ParamStore<F>) {
        store.zero_grads();
        self.backward(loss);
        self.accumulate_param_grads(store);
    }

    /// Adds the gradient of every parameter leaf into its entry of `store`. A
    /// parameter placed on the tape twice receives both contributions.
    pub fn accumulate_param_grads(&self, store: &mut ParamStore<F>) {
        let t = self.inner.borrow();
        for (node, grad) in t.nodes[..t.len].iter().zip(&t.grads) {
            if let (Op::Param(id), Some(g)) = (&node.op, grad) {
                for (d, s) in store.grad_mut(*id).data.iter_mut().zip(g) {
                    *d += *s;
                }
            }
        }
    }
}

/// A handle to a value on a tape: an index and a reference, so it is `Copy` and
/// can be passed around freely. Arithmetic on `Var`s records onto the tape.
#[derive(Clone, Copy)]
pub struct Var<'t, F: Float> {
    pub(crate) id: NodeId,
    pub(crate) tape: &'t Tape<F>,
}

impl<'t, F: Float> Var<'t, F> {
    pub fn id(&self) -> NodeId {
        self.id
    }

    pub fn tape(&self) -> &'t Tape<F> {
        self.tape
    }

    /// A copy of the current value.
    pub fn value(&self) -> Tensor<F> {
        self.tape.value_of(self.id)
    }

    pub fn shape(&self) -> Shape {
        self.tape.with_value(self.id, |v| v.shape.clone())
    }

    /// Calls `f` with the current value, without copying it.
    pub fn with_value<R>(&self, f: impl FnOnce(&Tensor<F>) -> R) -> R {
        self.tape.with_value(self.id, f)
    }

    /// The number held by a one-element Var (a loss).
    pub fn item(&self) -> F {
        self.tape.with_value(self.id, |v| v.item())
    }

    /// ∂loss/∂self after `backward` (see [`Tape::grad_of`]).
    pub fn grad(&self) -> Option<Tensor<F>> {
        self.tape.grad_of(self.id)
    }

    /// Records `op(self, others…)` on this Var's tape.
    pub(crate) fn record(&self, op: Op<F>, others: &[&Var<'t, F>]) -> Var<'t, F> {
        let mut inputs: SmallVec<[NodeId; 4]> = SmallVec::new();
        inputs.push(self.id);
        for o in others {
            assert!(
                std::ptr::eq(self.tape, o.tape),
                "{}: the inputs live on different tapes",
                op.name()
            );
            inputs.push(o.id);
        }
        Var {
            id: self.tape.record(op, &inputs),
            tape: self.tape,
        }
    }
}

impl<F: Float> fmt::Debug for Var<'_, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{} = {:?}", self.id, self.value())
    }
}
