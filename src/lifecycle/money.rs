//! What a preview costs, as people read it: [`PreviewCost`], amounts in the fleet's currency
//! ([`money`]), and the figure the PR comment shows ([`PreviewCost::shown_so_far`]), which
//! moves by visible steps only so that the comment does not churn. Pure.

use serde::Serialize;

/// What one preview has cost so far and costs per day awake, at its service's prices.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PreviewCost {
    /// Its hours so far (awake on spot, on on-demand, asleep), priced.
    pub so_far: f64,
    /// 24 hours awake on the capacity it is placed on.
    pub per_day_awake: f64,
}

impl PreviewCost {
    /// The step the comment's figure moves by: the round amount (0.01, 0.02, 0.05, 0.1, 0.2,
    /// 0.5, 1, 2, 5, …) at least a quarter of a day awake, so the comment changes a few times
    /// per day awake. (When the step grows, a spot preview moved to on-demand or a price
    /// changed, the comment still never shows less than it showed: see
    /// `comment::Costs::shown`.)
    pub fn step(&self) -> f64 {
        let quarter = self.per_day_awake / 4.0;
        let mut step = 0.01;
        for factor in [2.0, 2.5, 2.0].iter().cycle() {
            if step >= quarter || step >= 1e9 {
                break;
            }
            step *= factor;
        }
        // 0.01 × 2 × 2.5 × 2 … drifts in binary: round to the cent.
        (step * 100.0).round() / 100.0
    }

    /// `so_far` rounded down to [`PreviewCost::step`]: the figure the comment shows.
    pub fn shown_so_far(&self) -> f64 {
        let step = self.step();
        // Cents first: float sums like 0.299999 must not show one step lower.
        let cents = (self.so_far * 100.0 + 1e-6).floor();
        let step_cents = (step * 100.0).round();
        (cents / step_cents).floor() * step_cents / 100.0
    }
}

/// `amount` in `currency`, to the cent: `$1.25`, `€1.25`, `£1.25`, `1.25 CHF`.
pub fn money(amount: f64, currency: &str) -> String {
    let symbol = match currency {
        "USD" => Some("$"),
        "EUR" => Some("€"),
        "GBP" => Some("£"),
        _ => None,
    };
    let amount = round_cents(amount);
    match symbol {
        Some(symbol) => format!("{symbol}{amount:.2}"),
        None => format!("{amount:.2} {currency}"),
    }
}

/// `amount` rounded to the cent (half away from zero), as every figure people see is.
pub fn round_cents(amount: f64) -> f64 {
    (amount * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn amounts_read_as_money() {
        assert_eq!(money(1.0, "USD"), "$1.00");
        assert_eq!(money(0.125, "EUR"), "€0.13");
        assert_eq!(money(12.3, "CHF"), "12.30 CHF");
    }

    #[test]
    fn the_comment_figure_moves_by_a_quarter_day_awake_rounded() {
        let cost = PreviewCost {
            so_far: 3.77,
            per_day_awake: 4.8,
        };
        assert!((cost.step() - 2.0).abs() < 1e-9);
        assert!((cost.shown_so_far() - 2.0).abs() < 1e-9);
        let cheap = PreviewCost {
            so_far: 0.0333,
            per_day_awake: 0.0336,
        };
        assert!((cheap.step() - 0.01).abs() < 1e-9);
        assert!((cheap.shown_so_far() - 0.03).abs() < 1e-9);
        let exact = PreviewCost {
            so_far: 0.1 + 0.2,
            per_day_awake: 0.4,
        };
        assert!(
            (exact.shown_so_far() - 0.3).abs() < 1e-9,
            "0.1 + 0.2 shows 0.30"
        );
    }

    proptest! {
        #[test]
        fn the_comment_figure_never_exceeds_the_cost_nor_lags_a_step(
            so_far in 0.0f64..10_000.0, per_day in 0.0f64..500.0,
        ) {
            let cost = PreviewCost { so_far, per_day_awake: per_day };
            let shown = cost.shown_so_far();
            prop_assert!(shown <= so_far + 1e-6);
            prop_assert!(so_far - shown < cost.step() + 0.01);
        }
    }
}
