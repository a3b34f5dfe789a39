//! Normalizing flows on top of `autograd`.
