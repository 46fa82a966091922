//! Checking the catalogue against what the probes observed: every claim must be exactly what
//! happened, with exactly the versions the catalogue names. Against the plain reference
//! endpoint (the control) every call must work.

use std::collections::BTreeMap;

use super::catalogue::{Catalogue, Effect, Status};
use super::probe::Observation;

/// The target name of the control: the reference endpoint without deviations.
pub const CONTROL: &str = "reference";

/// The differences between the catalogue's claims for `client` and what its probe observed.
pub fn differences(
    catalogue: &Catalogue,
    client: &str,
    versions: &BTreeMap<String, String>,
    observations: &[Observation],
) -> Vec<String> {
    let mut out = Vec::new();
    let Some(c) = catalogue.client(client) else {
        return vec![format!("unknown client `{client}`")];
    };
    if &c.packages != versions {
        out.push(format!(
            "{client}: the catalogue was verified with {} but {} is installed (re-verify and update the catalogue)",
            show(&c.packages),
            show(versions)
        ));
    }
    let observed = |target: &str, call: &str| {
        observations
            .iter()
            .find(|o| o.target == target && o.call == call)
    };
    for call in &c.calls {
        match observed(CONTROL, call) {
            Some(o) if o.status == Status::Works => {}
            Some(o) => out.push(format!(
                "control ({CONTROL}): {client} {call} must work, it {}: {}",
                o.status.as_str(),
                o.symptom
            )),
            None => out.push(format!("control ({CONTROL}): {client} {call} was not run")),
        }
    }
    for d in &catalogue.deviations {
        for call in &c.calls {
            let want = d.effect(client, call);
            match observed(&d.id, call) {
                None => out.push(format!("{} {client} {call}: not run", d.id)),
                Some(o) if o.status == want.status && o.symptom == want.symptom => {}
                Some(o) => out.push(format!(
                    "{} {client} {call}: the catalogue says {}, observed {}",
                    d.id,
                    show_effect(want.status, &want.symptom),
                    show_effect(o.status, &o.symptom)
                )),
            }
        }
    }
    out
}

/// The catalogue with `client`'s results and versions replaced by what was observed (for
/// re-verifying after a library upgrade; the diff is then reviewed like any change).
pub fn with_observed(
    catalogue: &Catalogue,
    client: &str,
    versions: &BTreeMap<String, String>,
    observations: &[Observation],
) -> Catalogue {
    let mut out = catalogue.clone();
    if let Some(c) = out.clients.iter_mut().find(|c| c.id == client) {
        c.packages = versions.clone();
    }
    for d in &mut out.deviations {
        let calls: BTreeMap<String, Effect> = observations
            .iter()
            .filter(|o| o.target == d.id && o.status != Status::Works)
            .map(|o| {
                (
                    o.call.clone(),
                    Effect {
                        status: o.status,
                        symptom: o.symptom.clone(),
                    },
                )
            })
            .collect();
        d.results.insert(client.to_string(), calls);
        d.impact = d.derived_impact();
    }
    out
}

fn show(m: &BTreeMap<String, String>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn show_effect(status: Status, symptom: &str) -> String {
    if symptom.is_empty() {
        status.as_str().to_string()
    } else {
        format!("{} `{symptom}`", status.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observe(c: &Catalogue, client: &str, tweak: impl Fn(&mut Observation)) -> Vec<Observation> {
        let calls = &c.client(client).unwrap().calls;
        let mut out = Vec::new();
        for target in
            std::iter::once(CONTROL.to_string()).chain(c.deviations.iter().map(|d| d.id.clone()))
        {
            for call in calls {
                let effect = c
                    .deviation(&target)
                    .map(|d| d.effect(client, call))
                    .unwrap_or(Effect {
                        status: Status::Works,
                        symptom: String::new(),
                    });
                let mut o = Observation {
                    target: target.clone(),
                    call: call.clone(),
                    status: effect.status,
                    symptom: effect.symptom,
                };
                tweak(&mut o);
                out.push(o);
            }
        }
        out
    }

    #[test]
    fn observations_equal_to_the_catalogue_verify_and_any_change_is_a_difference() {
        let c = Catalogue::shipped();
        let versions = c.client("python").unwrap().packages.clone();
        let same = observe(&c, "python", |_| {});
        assert_eq!(
            differences(&c, "python", &versions, &same),
            Vec::<String>::new()
        );

        // A new release fixes S1: the claim no longer holds.
        let fixed = observe(&c, "python", |o| {
            if o.target == "S1" && o.call == "tools_stream" {
                o.status = Status::Works;
                o.symptom.clear();
            }
        });
        let diffs = differences(&c, "python", &versions, &fixed);
        assert_eq!(diffs.len(), 1, "{diffs:?}");
        assert!(
            diffs[0].starts_with("S1 python tools_stream: the catalogue says raises `TypeError"),
            "{diffs:?}"
        );

        // The control must work; other versions are named.
        let broken = observe(&c, "python", |o| {
            if o.target == CONTROL && o.call == "chat" {
                o.status = Status::Raises;
                o.symptom = "APIConnectionError: x".into();
            }
        });
        let mut other = versions.clone();
        other.insert("openai".into(), "0.0.1".into());
        let diffs = differences(&c, "python", &other, &broken);
        assert!(
            diffs
                .iter()
                .any(|d| d.starts_with("control (reference): python chat must work, it raises")),
            "{diffs:?}"
        );
        assert!(
            diffs
                .iter()
                .any(|d| d.contains("but openai 0.0.1, pydantic 2.14.4 is installed")),
            "{diffs:?}"
        );
    }

    #[test]
    fn re_verified_results_replace_a_clients_claims() {
        let c = Catalogue::shipped();
        let versions = c.client("node").unwrap().packages.clone();
        let obs = observe(&c, "node", |_| {});
        assert_eq!(with_observed(&c, "node", &versions, &obs), c);
    }
}
