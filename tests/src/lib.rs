//! Cross-crate property tests live in `tests/tests/`.
