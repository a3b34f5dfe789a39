//! The reverse sweep: the chain rule, once, for every program.
//!
//! If the loss L was computed through nodes v₀ … vₙ, then for every node
//!
//!   ḡᵢ = ∂L/∂vᵢ = Σ over the nodes j that used vᵢ of  ḡⱼ · ∂vⱼ/∂vᵢ
//!
//! Every node that used vᵢ was recorded *after* vᵢ, so walking the tape backwards
//! from L meets each node only once all of its users have added their share to
//! its ḡ. At that point ḡᵢ is complete, and we push it on to vᵢ's own inputs with
//! the op's vector-Jacobian product ([`crate::op::Op::vjp`]).
//!
//! The walk is a plain loop over indices: no recursion, so a tape of millions of
//! nodes cannot overflow the stack.

use crate::float::Float;
use crate::tape::{Tape, TapeInner, Var};
use crate::tensor::Tensor;
use smallvec::SmallVec;

impl<F: Float> Tape<F> {
    /// Computes ∂loss/∂v for every variable and parameter leaf that `loss` depends
    /// on. `loss` must hold a single number.
    ///
    /// Gradients of intermediate nodes are recycled as soon as the sweep has passed
    /// them, so the sweep holds at most the gradients of the "frontier" of the tape.
    /// Read leaf gradients with [`Var::grad`] or move parameter gradients into
    /// their store with [`Tape::accumulate_param_grads`].
    pub fn backward(&self, loss: Var<'_, F>) {
        assert!(
            std::ptr::eq(self, loss.tape),
            "backward: the loss lives on another tape"
        );
        let mut guard = self.inner.borrow_mut();
        let TapeInner {
            nodes,
            len,
            grads,
            spare,
        } = &mut *guard;
        let nodes = &nodes[..*len];
        assert!(
            nodes[loss.id].value.len() == 1,
            "backward: the loss must be a single number, got shape {:?}",
            nodes[loss.id].value.shape()
        );

        // Gradients of an earlier sweep over this tape go back to the spare pile.
        for slot in grads.iter_mut() {
            if let Some(buffer) = slot.take() {
                spare.push(buffer);
            }
        }
        grads.resize_with(nodes.len(), || None);

        // ∂L/∂L = 1
        let mut seed = zeroed_buffer(spare, 1);
        seed[0] = F::ONE;
        grads[loss.id] = Some(seed);

        for i in (0..=loss.id).rev() {
            let Some(mut g) = grads[i].take() else {
                continue; // nothing reached this node: it does not affect the loss
            };
            let node = &nodes[i];
            if node.op.is_leaf() {
                grads[i] = Some(g); // keep leaf gradients for the caller
                continue;
            }
            node.op.output_gradient(&mut g, &node.value.data);
            let xs: SmallVec<[&Tensor<F>; 4]> =
                node.inputs.iter().map(|&j| &nodes[j].value).collect();
            for (k, &j) in node.inputs.iter().enumerate() {
                if !nodes[j].requires_grad {
                    continue;
                }
                if let Some(gx) = grads[j].as_mut() {
                    node.op.vjp(k, &g, &xs, &node.value.data, gx);
                    continue;
                }
                // The first share to reach node j: written, where the op can,
                // into a buffer that was never zeroed.
                let mut gx = reused_buffer(spare, nodes[j].value.len());
                if !node.op.vjp_overwrite(k, &g, &xs, &mut gx) {
                    gx.fill(F::ZERO);
                    node.op.vjp(k, &g, &xs, &node.value.data, &mut gx);
                }
                grads[j] = Some(gx);
            }
            // Every user of node i came after it, so ḡᵢ is no longer needed.
            spare.push(g);
        }
    }
}

/// A zero-filled buffer of `n` numbers (see [`reused_buffer`]).
fn zeroed_buffer<F: Float>(spare: &mut Vec<Vec<F>>, n: usize) -> Vec<F> {
    let mut buffer = reused_buffer(spare, n);
    buffer.fill(F::ZERO);
    buffer
}

/// A buffer of `n` numbers with whatever it held before, taken from the spare
/// pile when one fits: the smallest that holds `n`, and only if it is not more
/// than twice that. A much bigger one is left for a big request: handing a
/// `[3000, 128]` buffer to a `[128]` bias gradient (which leaves keep until the
/// next step) would force the next big request to allocate another.
fn reused_buffer<F: Float>(spare: &mut Vec<Vec<F>>, n: usize) -> Vec<F> {
    let best = spare
        .iter()
        .enumerate()
        .filter(|(_, b)| b.capacity() >= n && b.capacity() <= 2 * n.max(64))
        .min_by_key(|(_, b)| b.capacity())
        .map(|(i, _)| i);
    let mut buffer = match best {
        Some(i) => spare.swap_remove(i),
        None => Vec::with_capacity(n),
    };
    // Shortening keeps the old numbers; only growing writes (zeros).
    buffer.resize(n, F::ZERO);
    buffer
}
