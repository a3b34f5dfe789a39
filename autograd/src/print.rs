//! The tape shows itself: the forward Wengert list, the adjoint program that the
//! reverse sweep runs, and a Graphviz drawing.
//!
//! The adjoint program is the backward pass written out as straight-line code,
//! one `ḡx += …` statement per edge the sweep follows, in the order it follows
//! them. It is what reverse mode *is*; seeing it printed for a real model is the
//! quickest way to believe it.

use crate::float::Float;
use crate::op::Op;
use crate::ops::unary::Unary;
use crate::tape::{Node, Tape, Var};
use std::fmt::Write;

impl<F: Float> Tape<F> {
    /// One line per node: `v4 = matmul(v2, v3)  [3000, 128]`.
    pub fn wengert_list(&self) -> String {
        let t = self.inner.borrow();
        let nodes = &t.nodes[..t.len];
        let lines: Vec<(String, String)> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                (
                    format!("v{i} = {}", describe(n)),
                    format!("{:?}", n.value.shape()),
                )
            })
            .collect();
        columns(&lines, "  ")
    }

    /// The statements of the reverse sweep from `loss`, in the order they run.
    /// Edges into nodes that need no gradient (data, masks) are skipped, exactly
    /// as [`Tape::backward`] skips them.
    pub fn adjoint_program(&self, loss: Var<'_, F>) -> String {
        let t = self.inner.borrow();
        let nodes = &t.nodes[..t.len];
        // Which nodes does the sweep reach? Those the loss depends on.
        let mut reached = vec![false; nodes.len()];
        reached[loss.id] = true;
        let mut lines = vec![(format!("ḡ{} = 1", loss.id), "seed: ∂L/∂L".to_string())];
        for i in (0..=loss.id).rev() {
            let node = &nodes[i];
            if !reached[i] || node.op.is_leaf() {
                continue;
            }
            let xs: Vec<String> = node.inputs.iter().map(|j| format!("v{j}")).collect();
            let shapes: Vec<&[usize]> = node
                .inputs
                .iter()
                .map(|&j| nodes[j].value.shape())
                .collect();
            for (k, &j) in node.inputs.iter().enumerate() {
                if !nodes[j].requires_grad {
                    continue;
                }
                reached[j] = true;
                let rhs = node
                    .op
                    .adjoint_text(k, &xs, &format!("v{i}"), &format!("ḡ{i}"), &shapes);
                lines.push((format!("ḡ{j} += {rhs}"), node.op.name().to_string()));
            }
        }
        for (i, node) in nodes.iter().enumerate() {
            if reached[i] && node.op.is_leaf() && node.requires_grad {
                let name = node.label.as_deref().unwrap_or("");
                lines.push((
                    format!("∂L/∂{} = ḡ{i}", leaf_name(i, name)),
                    "result".into(),
                ));
            }
        }
        columns(&lines, "  # ")
    }

    /// The graph in Graphviz DOT (`dot -Tsvg`): leaves as boxes, ops as ellipses.
    pub fn to_dot(&self) -> String {
        let t = self.inner.borrow();
        let mut s =
            String::from("digraph tape {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n");
        for (i, n) in t.nodes[..t.len].iter().enumerate() {
            let shape = if n.op.is_leaf() { "box" } else { "ellipse" };
            let colour = if n.requires_grad { "black" } else { "grey" };
            let _ = writeln!(
                s,
                "  v{i} [label=\"v{i}: {}\\n{:?}\", shape={shape}, color={colour}, fontcolor={colour}];",
                describe(n).replace('"', "\\\""),
                n.value.shape()
            );
            for j in &n.inputs {
                let _ = writeln!(s, "  v{j} -> v{i};");
            }
        }
        s.push_str("}\n");
        s
    }
}

fn leaf_name(i: usize, label: &str) -> String {
    if label.is_empty() {
        format!("v{i}")
    } else {
        label.to_string()
    }
}

/// The right-hand side of a Wengert line: `matmul(v2, v3)`, `param "w"`, …
fn describe<F: Float>(n: &Node<F>) -> String {
    let label = n
        .label
        .as_deref()
        .map(|l| format!(" {l:?}"))
        .unwrap_or_default();
    let args: Vec<String> = n.inputs.iter().map(|j| format!("v{j}")).collect();
    let mut args = args.join(", ");
    match &n.op {
        Op::Constant | Op::Variable | Op::Param(_) => return format!("{}{label}", n.op.name()),
        Op::Unary(Unary::Scale(c)) | Op::Unary(Unary::Shift(c)) => {
            let _ = write!(args, ", {c}");
        }
        Op::Unary(Unary::Powi(p)) => {
            let _ = write!(args, ", {p}");
        }
        Op::Reduce {
            axis: Some(a),
            keepdim,
            ..
        } => {
            let _ = write!(
                args,
                ", axis={a}{}",
                if *keepdim { ", keepdim" } else { "" }
            );
        }
        Op::SliceCols { start, len } => {
            let _ = write!(args, ", {start}..{}", start + len);
        }
        Op::GatherCols(idx) => {
            let _ = write!(args, ", {idx:?}");
        }
        Op::Reshape(shape) => {
            let _ = write!(args, ", {shape:?}");
        }
        _ => {}
    }
    format!("{}({args})", n.op.name())
}

/// Left column padded so the right column lines up, then `sep`, then the right.
fn columns(lines: &[(String, String)], sep: &str) -> String {
    let width = lines
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    let mut s = String::new();
    for (left, right) in lines {
        let pad = width - left.chars().count();
        let _ = writeln!(s, "{left}{}{sep}{right}", " ".repeat(pad));
    }
    s
}
