//! [`Named`]: the choices a user spells out (`--flow affine`, `"mixing": "lu"`),
//! each with one list of names that flags, checkpoints and messages share.

use autograd::Activation;

/// A closed set of choices, each with a lower-case name.
pub trait Named: Copy + PartialEq + 'static {
    /// What the choice is, for messages ("flow kind").
    const WHAT: &'static str;
    /// Every choice, in the order help texts list them.
    const ALL: &'static [Self];

    fn name(&self) -> &'static str;

    /// One line for help texts.
    fn about(&self) -> &'static str;

    /// Every name, in the order of [`Named::ALL`].
    fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|c| c.name()).collect()
    }

    /// The choice called `name` (in any case), or a message listing the names.
    fn from_name(name: &str) -> Result<Self, String> {
        Self::ALL
            .iter()
            .copied()
            .find(|c| c.name().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| {
                format!(
                    "unknown {} {name:?} (expected one of: {})",
                    Self::WHAT,
                    Self::names().join(", ")
                )
            })
    }
}

impl Named for Activation {
    const WHAT: &'static str = "activation";
    const ALL: &'static [Self] = &[
        Activation::Tanh,
        Activation::Relu,
        Activation::Sigmoid,
        Activation::Softplus,
    ];

    fn name(&self) -> &'static str {
        Activation::name(self)
    }

    fn about(&self) -> &'static str {
        match self {
            Activation::Tanh => "tanh, smooth and bounded",
            Activation::Relu => "max(0, x)",
            Activation::Sigmoid => "1/(1 + e⁻ˣ)",
            Activation::Softplus => "log(1 + eˣ), a smooth ReLU",
        }
    }
}

/// Serde for a [`Named`] field: written as its name, read back strictly.
pub mod serde_name {
    use super::Named;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer, T: Named>(value: &T, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(value.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>, T: Named>(d: D) -> Result<T, D::Error> {
        let name = String::deserialize(d)?;
        T::from_name(&name).map_err(serde::de::Error::custom)
    }
}
