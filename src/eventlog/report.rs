//! Prints figures of several runs side by side, one column per run.

use std::collections::BTreeSet;
use std::fmt::Write;

use super::figures::{Figures, QueueFigures};

/// A row's label and how to compute its cell.
type Row = (&'static str, fn(&QueueFigures) -> String);

pub fn side_by_side(columns: &[(&str, &Figures)]) -> String {
    let queues: BTreeSet<&String> = columns.iter().flat_map(|(_, f)| f.queues.keys()).collect();
    let mut s = String::new();
    let _ = write!(s, "{:<16} {:<22}", "queue", "figure");
    for (title, _) in columns {
        let _ = write!(s, " {title:>22}");
    }
    s.push('\n');
    let rows: [Row; 8] = [
        ("arrived", |f| f.arrived.to_string()),
        ("answered", |f| f.answered.to_string()),
        ("abandoned", |f| f.abandoned.to_string()),
        ("callbacks requested", |f| f.callbacks.to_string()),
        ("missed", |f| f.missed.to_string()),
        ("mean wait (s)", |f| format!("{:.1}", f.mean_wait_seconds())),
        ("90% waited under (s)", |f| {
            format!("{:.1}", f.wait_percentile_seconds(0.9))
        }),
        ("service level (%)", |f| format!("{:.1}", f.service_level_percent())),
    ];
    for queue in queues {
        for (index, (label, value)) in rows.iter().enumerate() {
            let name = if index == 0 { queue.as_str() } else { "" };
            let _ = write!(s, "{name:<16} {label:<22}");
            for (_, figures) in columns {
                let cell = figures.queues.get(queue).map(value).unwrap_or_else(|| "-".into());
                let _ = write!(s, " {cell:>22}");
            }
            s.push('\n');
        }
    }
    let target = columns.first().map_or(0, |(_, f)| f.target_ms / 1000);
    let _ = writeln!(
        s,
        "service level: answered within {target} s, of arrivals that did not give up sooner or ask to be called back"
    );
    s
}
