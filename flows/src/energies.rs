//! The built-in [`Target`]s of variational inference, each named by a short
//! spec string a command line can carry: `u1` … `u4`, `banana`, `mixture`,
//! `gaussian`, with parameters after a colon (`mixture:k=6,radius=3`).
//!
//! **U1–U4** are the four energies of Rezende & Mohamed (2015, Table 1),
//! p̃(z) = exp(−U(z)), with
//!   w₁(z) = sin(2πz₁/4),  w₂(z) = 3·exp(−½((z₁ − 1)/0.6)²),  w₃(z) = 3·σ((z₁ − 1)/0.3):
//!
//!   U1 = ½((‖z‖ − 2)/0.4)² − log(e^{−½((z₁ − 2)/0.6)²} + e^{−½((z₁ + 2)/0.6)²})
//!   U2 = ½((z₂ − w₁)/0.4)²
//!   U3 = −log(e^{−½((z₂ − w₁)/0.35)²} + e^{−½((z₂ − w₁ + w₂)/0.35)²})
//!   U4 = −log(e^{−½((z₂ − w₁)/0.4)²} + e^{−½((z₂ − w₁ + w₃)/0.35)²})
//!
//! U2–U4 do not decay along z₁ at all (the paper draws them in [−4, 4]²), so
//! they have no finite normalizer and no KL divergence could be reported.
//! Here they carry a soft wall ½(z₁/4)⁸: below 0.05 inside |z₁| ≤ 3, 0.5 at
//! the paper's frame |z₁| = 4, 13 at |z₁| = 6. Their log Z is found by
//! quadrature.
//!
//! **banana** (`curvature` b, `spread` s): z₁ ~ N(0, 1), z₂ | z₁ ~
//! N(b(z₁² − 1), s²); a curved ridge like Rosenbrock's valley. Z = 2πs.
//!
//! **mixture** (`k`, `radius` R, `std` σ): k equal Gaussians N(μⱼ, σ²I) at
//! μⱼ = R(cos 2πj/k, sin 2πj/k); well-separated modes, the classic trap of
//! reverse KL (it may settle on some modes and miss others). Z = k·2πσ².
//!
//! **gaussian** (`dim` d, `mean` m, `std` s, `corr` ρ): N(m·1, Σ) with
//! Σ = s²((1 − ρ)I + ρ11ᵀ), any dimension; its inverse is
//! Σ⁻¹ = ((I − ρ/(1 + (d − 1)ρ)·11ᵀ)/(s²(1 − ρ)), and Z = √det(2πΣ).

use crate::target::{log_z_by_quadrature, Rect, Target};
use autograd::{Float, Value, Var};
use std::f64::consts::PI;
use std::fmt;

/// A built-in target (see the module docs for each formula).
#[derive(Clone, Debug, PartialEq)]
pub enum Energy {
    U1,
    U2,
    U3,
    U4,
    Banana {
        curvature: f64,
        spread: f64,
    },
    Mixture {
        k: usize,
        radius: f64,
        std: f64,
    },
    Gaussian {
        dim: usize,
        mean: f64,
        std: f64,
        corr: f64,
    },
}

/// How log Z of a target is known.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Normalizer {
    /// In closed form.
    Exact(f64),
    /// By quadrature over this area, where all but a negligible part of the
    /// mass lies.
    Quadrature(Rect),
}

/// The names of the built-in targets, with their parameters and defaults.
pub const ENERGY_HELP: &str = "u1, u2, u3, u4 (Rezende & Mohamed 2015), \
banana[:curvature=1,spread=0.5], mixture[:k=8,radius=3,std=0.3], \
gaussian[:dim=2,mean=0,std=1,corr=0]";

/// Side of a quadrature cell for U1–U4: halving it changes log Z by < 1e-6.
pub const QUADRATURE_STEP: f64 = 0.01;

impl Energy {
    /// Parses a spec: a name, optionally `:key=value,key=value`.
    pub fn parse(spec: &str) -> Result<Energy, String> {
        let (name, params) = match spec.split_once(':') {
            Some((name, params)) => (name, params),
            None => (spec, ""),
        };
        let mut params = Params::parse(params)?;
        let energy = match name {
            "u1" => Energy::U1,
            "u2" => Energy::U2,
            "u3" => Energy::U3,
            "u4" => Energy::U4,
            "banana" => Energy::Banana {
                curvature: params.number("curvature", 1.0)?,
                spread: params.positive("spread", 0.5)?,
            },
            "mixture" => Energy::Mixture {
                k: params.count("k", 8, 1)?,
                radius: params.number("radius", 3.0)?,
                std: params.positive("std", 0.3)?,
            },
            "gaussian" => {
                let dim = params.count("dim", 2, 1)?;
                let corr = params.number("corr", 0.0)?;
                let lowest = if dim > 1 {
                    -1.0 / (dim as f64 - 1.0)
                } else {
                    -1.0
                };
                if !(corr > lowest && corr < 1.0) {
                    return Err(format!(
                        "gaussian corr {corr}: must lie in ({lowest:.4}, 1) for dim {dim}"
                    ));
                }
                Energy::Gaussian {
                    dim,
                    mean: params.number("mean", 0.0)?,
                    std: params.positive("std", 1.0)?,
                    corr,
                }
            }
            _ => {
                return Err(format!(
                    "unknown target {name:?}; the targets are {ENERGY_HELP}"
                ))
            }
        };
        params.finish(name)?;
        Ok(energy)
    }

    /// log Z, in closed form or by quadrature.
    pub fn normalizer(&self) -> Normalizer {
        match *self {
            Energy::U1 | Energy::U2 | Energy::U3 | Energy::U4 => {
                Normalizer::Quadrature(Rect::square(7.0))
            }
            Energy::Banana { spread, .. } => Normalizer::Exact((2.0 * PI * spread).ln()),
            Energy::Mixture { k, std, .. } => {
                Normalizer::Exact((k as f64).ln() + (2.0 * PI * std * std).ln())
            }
            Energy::Gaussian { dim, std, corr, .. } => {
                let d = dim as f64;
                let log_det = d * (std * std).ln()
                    + (d - 1.0) * (1.0 - corr).ln()
                    + (1.0 + (d - 1.0) * corr).ln();
                Normalizer::Exact(0.5 * d * (2.0 * PI).ln() + 0.5 * log_det)
            }
        }
    }

    /// log Z as a number (quadrature runs here, about a second).
    pub fn log_z(&self) -> f64 {
        match self.normalizer() {
            Normalizer::Exact(log_z) => log_z,
            Normalizer::Quadrature(area) => log_z_by_quadrature::<f64>(self, area, QUADRATURE_STEP),
        }
    }

    /// The part of the plane a picture of a 2-D target should show.
    pub fn view(&self) -> Rect {
        match *self {
            Energy::U1 | Energy::U2 | Energy::U3 | Energy::U4 => Rect::square(4.5),
            Energy::Banana { curvature, spread } => {
                let top = curvature.abs() * 8.0 + 3.0 * spread;
                Rect {
                    x: (-3.5, 3.5),
                    y: if curvature >= 0.0 {
                        (-curvature - 3.0 * spread, top)
                    } else {
                        (-top, -curvature + 3.0 * spread)
                    },
                }
            }
            Energy::Mixture { radius, std, .. } => Rect::square(radius.abs() + 4.0 * std),
            Energy::Gaussian { mean, std, .. } => Rect {
                x: (mean - 4.0 * std, mean + 4.0 * std),
                y: (mean - 4.0 * std, mean + 4.0 * std),
            },
        }
    }
}

impl fmt::Display for Energy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Energy::U1 => write!(f, "u1"),
            Energy::U2 => write!(f, "u2"),
            Energy::U3 => write!(f, "u3"),
            Energy::U4 => write!(f, "u4"),
            Energy::Banana { curvature, spread } => {
                write!(f, "banana:curvature={curvature},spread={spread}")
            }
            Energy::Mixture { k, radius, std } => {
                write!(f, "mixture:k={k},radius={radius},std={std}")
            }
            Energy::Gaussian {
                dim,
                mean,
                std,
                corr,
            } => write!(f, "gaussian:dim={dim},mean={mean},std={std},corr={corr}"),
        }
    }
}

impl<F: Float> Target<F> for Energy {
    fn dim(&self) -> usize {
        match self {
            Energy::Gaussian { dim, .. } => *dim,
            _ => 2,
        }
    }

    fn log_density<'t>(&self, x: &Var<'t, F>) -> Var<'t, F> {
        let c = F::from_f64;
        let n = x.shape()[0];
        // −½((v − shift)/scale)², elementwise.
        let bump = |v: &Var<'t, F>, shift: f64, scale: f64| {
            v.shift(c(-shift))
                .scale(c(1.0 / scale))
                .square()
                .scale(c(-0.5))
        };
        let log_add =
            |a: &Var<'t, F>, b: &Var<'t, F>| Var::concat_cols(&[a, b]).logsumexp(1, false);
        let (z1, z2) = (x.slice_cols(0, 1), x.slice_cols(1, 1));
        let wall = || z1.scale(c(0.25)).powi(8).scale(c(0.5)).reshape(&[n]);
        let w1 = || z1.scale(c(PI / 2.0)).sin();
        match *self {
            Energy::U1 => {
                let r = x.square().sum_axis(1, true).shift(c(1e-30)).sqrt();
                let ring = bump(&r, 2.0, 0.4).reshape(&[n]);
                ring.add(&log_add(&bump(&z1, 2.0, 0.6), &bump(&z1, -2.0, 0.6)))
            }
            Energy::U2 => {
                let wave = bump(&z2.sub(&w1()), 0.0, 0.4).reshape(&[n]);
                wave.sub(&wall())
            }
            Energy::U3 => {
                let d = z2.sub(&w1());
                let w2 = bump(&z1, 1.0, 0.6).exp().scale(c(3.0));
                let both = log_add(&bump(&d, 0.0, 0.35), &bump(&d.add(&w2), 0.0, 0.35));
                both.sub(&wall())
            }
            Energy::U4 => {
                let d = z2.sub(&w1());
                let w3 = z1
                    .shift(c(-1.0))
                    .scale(c(1.0 / 0.3))
                    .sigmoid()
                    .scale(c(3.0));
                let both = log_add(&bump(&d, 0.0, 0.4), &bump(&d.add(&w3), 0.0, 0.35));
                both.sub(&wall())
            }
            Energy::Banana { curvature, spread } => {
                let ridge = z1.square().shift(c(-1.0)).scale(c(curvature));
                let across = bump(&z2.sub(&ridge), 0.0, spread);
                bump(&z1, 0.0, 1.0).add(&across).reshape(&[n])
            }
            Energy::Mixture { k, radius, std } => {
                let modes: Vec<Var<'t, F>> = (0..k)
                    .map(|j| {
                        let angle = 2.0 * PI * j as f64 / k as f64;
                        let to_x = bump(&z1, radius * angle.cos(), std);
                        to_x.add(&bump(&z2, radius * angle.sin(), std))
                    })
                    .collect();
                let refs: Vec<&Var<'t, F>> = modes.iter().collect();
                Var::concat_cols(&refs).logsumexp(1, false)
            }
            Energy::Gaussian {
                dim,
                mean,
                std,
                corr,
            } => {
                let y = x.shift(c(-mean));
                let d = dim as f64;
                let squares = y.square().sum_axis(1, false);
                let total = y.sum_axis(1, false).square();
                let pull = corr / (1.0 + (d - 1.0) * corr);
                let quadratic = squares.sub(&total.scale(c(pull)));
                quadratic.scale(c(-0.5 / (std * std * (1.0 - corr))))
            }
        }
    }
}

/// `key=value` pairs of a spec, taken one by one; whatever is left at the
/// end is an unknown key.
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(text: &str) -> Result<Params, String> {
        let mut pairs = Vec::new();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let Some((key, value)) = item.split_once('=') else {
                return Err(format!("target parameter {item:?}: expected key=value"));
            };
            pairs.push((key.trim().to_string(), value.trim().to_string()));
        }
        Ok(Params(pairs))
    }

    fn take(&mut self, key: &str) -> Option<String> {
        let at = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.remove(at).1)
    }

    fn number(&mut self, key: &str, default: f64) -> Result<f64, String> {
        match self.take(key) {
            None => Ok(default),
            Some(text) => match text.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(v),
                _ => Err(format!(
                    "target parameter {key}={text}: not a finite number"
                )),
            },
        }
    }

    fn positive(&mut self, key: &str, default: f64) -> Result<f64, String> {
        let v = self.number(key, default)?;
        if v > 0.0 {
            Ok(v)
        } else {
            Err(format!("target parameter {key}={v}: must be positive"))
        }
    }

    fn count(&mut self, key: &str, default: usize, least: usize) -> Result<usize, String> {
        const MOST: usize = 1000;
        match self.take(key) {
            None => Ok(default),
            Some(text) => match text.parse::<usize>() {
                Ok(v) if (least..=MOST).contains(&v) => Ok(v),
                _ => Err(format!(
                    "target parameter {key}={text}: must be a whole number from {least} to {MOST}"
                )),
            },
        }
    }

    fn finish(self, name: &str) -> Result<(), String> {
        match self.0.first() {
            None => Ok(()),
            Some((key, _)) => Err(format!(
                "target {name} has no parameter {key:?}; the targets are {ENERGY_HELP}"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::log_density_values;
    use autograd::Tensor;

    #[test]
    fn specs_parse_with_defaults_and_refuse_mistakes() {
        assert_eq!(Energy::parse("u3"), Ok(Energy::U3));
        assert_eq!(
            Energy::parse("mixture:k=6, radius=2"),
            Ok(Energy::Mixture {
                k: 6,
                radius: 2.0,
                std: 0.3
            })
        );
        for bad in [
            "u5",
            "u1:k=2",
            "mixture:k=0",
            "mixture:k=2.5",
            "banana:spread=-1",
            "banana:spread=nan",
            "gaussian:corr=1",
            "gaussian:dim=3,corr=-0.6",
            "banana:curvature",
        ] {
            assert!(Energy::parse(bad).is_err(), "{bad} was accepted");
        }
        for energy in [
            Energy::U1,
            Energy::parse("gaussian:dim=3,corr=0.5").unwrap(),
        ] {
            assert_eq!(Energy::parse(&energy.to_string()), Ok(energy));
        }
    }

    /// The closed-form normalizers agree with quadrature over a wide box.
    #[test]
    fn exact_normalizers_match_quadrature() {
        for spec in [
            "banana:curvature=0.5,spread=0.7",
            "mixture:k=3,radius=2,std=0.4",
            "gaussian:mean=0.5,std=0.8,corr=0.6",
        ] {
            let energy = Energy::parse(spec).unwrap();
            let Normalizer::Exact(exact) = energy.normalizer() else {
                panic!("{spec} has a closed form")
            };
            let area = Rect {
                x: (-8.0, 8.0),
                y: (-8.0, 12.0),
            };
            let by_quadrature = log_z_by_quadrature::<f64>(&energy, area, 0.01);
            assert!(
                (exact - by_quadrature).abs() < 1e-5,
                "{spec}: {exact} vs {by_quadrature}"
            );
        }
    }

    /// U1–U4 at a few points, against the paper's formulas written out here
    /// in plain f64.
    #[test]
    fn the_four_energies_follow_the_paper() {
        let points = [
            [0.3, -1.2],
            [2.0, 0.1],
            [-1.5, 0.8],
            [1.0, -2.9],
            [4.2, 0.0],
        ];
        let flat: Vec<f64> = points.iter().flatten().copied().collect();
        let x = Tensor::from_f64(&flat, &[points.len(), 2]);
        let log_add = |a: f64, b: f64| a.max(b) + (-(a - b).abs()).exp().ln_1p();
        let g = |v: f64, s: f64| -0.5 * (v / s) * (v / s);
        let expected = |energy: &Energy, [z1, z2]: [f64; 2]| -> f64 {
            let w1 = (2.0 * PI * z1 / 4.0).sin();
            let w2 = 3.0 * (g(z1 - 1.0, 0.6)).exp();
            let w3 = 3.0 / (1.0 + (-(z1 - 1.0) / 0.3).exp());
            let wall = 0.5 * (z1 / 4.0).powi(8);
            match energy {
                Energy::U1 => {
                    let r = (z1 * z1 + z2 * z2).sqrt();
                    g(r - 2.0, 0.4) + log_add(g(z1 - 2.0, 0.6), g(z1 + 2.0, 0.6))
                }
                Energy::U2 => g(z2 - w1, 0.4) - wall,
                Energy::U3 => log_add(g(z2 - w1, 0.35), g(z2 - w1 + w2, 0.35)) - wall,
                _ => log_add(g(z2 - w1, 0.4), g(z2 - w1 + w3, 0.35)) - wall,
            }
        };
        for energy in [Energy::U1, Energy::U2, Energy::U3, Energy::U4] {
            let got = log_density_values::<f64>(&energy, &x);
            for (p, g) in points.iter().zip(&got) {
                let e = expected(&energy, *p);
                assert!((g - e).abs() < 1e-12, "{energy} at {p:?}: {g} vs {e}");
            }
        }
    }
}
