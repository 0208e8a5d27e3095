//! `price_per_hour`: what one preview of a service costs per hour awake on on-demand
//! capacity, awake on spot capacity and asleep, merged key by key like `sleep`.

use super::{Set, blame, pick, read};
use crate::fleet::HourlyPrice;
use crate::fleet::parse::cx::{Cx, Fields, quote};
use crate::yaml::{Located, Node, position};

const PRICE_KEYS: [&str; 3] = ["on_demand", "spot", "asleep"];

/// Highest price per hour accepted: a preview costing more than this an hour is a typo (a
/// monthly price, cents instead of units).
const MAX_PRICE: f64 = 10_000.0;

/// What one layer sets of `price_per_hour`.
#[derive(Clone, Debug, Default)]
pub(super) struct PriceLayer {
    /// The `price_per_hour` mapping itself, to blame when the merged prices are incomplete.
    block: Option<Set<()>>,
    on_demand: Option<Set<f64>>,
    spot: Option<Set<f64>>,
    asleep: Option<Set<f64>>,
    /// A price is set but invalid (already reported): not reported again as missing.
    invalid: bool,
}

/// Reads `price_per_hour` of the policy mapping `fields`.
pub(super) fn layer(cx: &mut Cx, fields: &Fields<'_>) -> PriceLayer {
    let node = fields.get("price_per_hour");
    let path = fields.path("price_per_hour");
    let prices = cx.fields(&path, node, &PRICE_KEYS);
    let on_demand = read(cx, &prices, "on_demand", amount);
    let spot = read(cx, &prices, "spot", amount);
    let asleep = read(cx, &prices, "asleep", amount);
    let read_back = [on_demand.is_some(), spot.is_some(), asleep.is_some()];
    let invalid = PRICE_KEYS
        .iter()
        .zip(read_back)
        .any(|(key, read)| prices.get(key).is_some() && !read);
    PriceLayer {
        block: node.map(|node| Set {
            value: (),
            field: path,
            line: position(node).0,
        }),
        on_demand,
        spot,
        asleep,
        invalid,
    }
}

/// A price: a number from 0 to [`MAX_PRICE`], in the fleet's `currency`.
fn amount(cx: &mut Cx, path: &str, node: &Located) -> Option<f64> {
    let price = match &node.value {
        // Prices are small: every i128 in range converts exactly enough.
        #[allow(clippy::cast_precision_loss)]
        Node::Int(n) => *n as f64,
        Node::Float(x) => *x,
        Node::Str(text) => {
            let fix = if text.trim().parse::<f64>().is_ok() {
                "write it without quotes"
            } else {
                "write a number"
            };
            let message = format!(
                "must be a number, found text {}: {fix}, e.g. `0.0416`",
                quote(text)
            );
            cx.error(path, Some(node), message);
            return None;
        }
        other => {
            let message = format!(
                "must be a number, found {}: write e.g. `0.0416`",
                other.kind()
            );
            cx.error(path, Some(node), message);
            return None;
        }
    };
    if price.is_finite() && (0.0..=MAX_PRICE).contains(&price) {
        return Some(price);
    }
    let shown = node.value.scalar_text().unwrap_or_default();
    let message = format!(
        "{} is not a price per hour: give a number from 0 to {MAX_PRICE}, in the fleet's `currency`",
        quote(&shown)
    );
    cx.error(path, Some(node), message);
    None
}

/// The merged prices: `Some(None)` when no layer sets any, `None` (with an error blaming the
/// innermost `price_per_hour`) when the merged prices lack one of the three.
pub(super) fn resolve(
    cx: &mut Cx,
    default: &PriceLayer,
    over: &PriceLayer,
) -> Option<Option<HourlyPrice>> {
    let on_demand = pick(&over.on_demand, &default.on_demand).map(|s| s.value);
    let spot = pick(&over.spot, &default.spot).map(|s| s.value);
    let asleep = pick(&over.asleep, &default.asleep).map(|s| s.value);
    if let (Some(on_demand), Some(spot), Some(asleep)) = (on_demand, spot, asleep) {
        return Some(Some(HourlyPrice {
            on_demand,
            spot,
            asleep,
        }));
    }
    let block = pick(&over.block, &default.block);
    if block.is_none() || over.invalid || default.invalid {
        return Some(None);
    }
    let missing: Vec<String> = [("on_demand", on_demand), ("spot", spot), ("asleep", asleep)]
        .iter()
        .filter(|(_, price)| price.is_none())
        .map(|(key, _)| format!("`{key}`"))
        .collect();
    let message = format!(
        "lacks {}: give all three prices, e.g. `{{on_demand: 0.0416, spot: 0.0167, asleep: 0.001}}`",
        missing.join(" and ")
    );
    blame(cx, block, message);
    None
}
