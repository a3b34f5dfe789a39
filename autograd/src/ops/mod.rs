//! The kernels: each file computes one family of ops forward and, right beside it,
//! backward. [`crate::op::Op`] lists the ops and routes to these functions.

pub mod binary;
pub mod columns;
pub mod dense;
pub mod kernel;
pub mod layout;
pub mod matmul;
pub mod reduce;
pub mod unary;
