//! `llm-parity list`: the suites, cases, features, checks, targets or deviations known to the run.

use super::args::{ListWhat, ProjectArgs};
use super::error::CliError;
use super::out::outln;
use super::project::load;
use super::targets;
use crate::exit;

pub fn run(what: ListWhat, p: &ProjectArgs) -> Result<u8, CliError> {
    if let ListWhat::Checks = what {
        for c in crate::judge::checks::all() {
            outln!("{:<32} {}", c.name, c.description);
        }
        return Ok(exit::OK);
    }
    if let ListWhat::Deviations = what {
        for d in llm_parity_reference::DEVIATIONS {
            outln!("{:<22} {}", d.id, d.summary);
        }
        return Ok(exit::OK);
    }
    if let ListWhat::Targets = what {
        let file = targets::load_file_targets(p)?;
        for (name, profile) in targets::BUILTIN {
            outln!("{name:<28} built-in reference endpoint (profile {profile})");
        }
        outln!(
            "{:<28} built-in reference endpoint with chosen deviations (list deviations)",
            format!("{}ID[+ID…]", targets::DEVIATION_TARGET)
        );
        for t in file {
            let roles: Vec<String> = t.models.iter().map(|(r, m)| format!("{r}={m}")).collect();
            outln!("{:<28} {} [{}]", t.name, t.base_url, roles.join(", "));
        }
        return Ok(exit::OK);
    }
    let project = load(p)?;
    match what {
        ListWhat::Suites => {
            // Where each suite came from: built in, or the file that added (or replaced) it.
            for s in &project.suites {
                let origin = if s.builtin {
                    "built-in".to_string()
                } else {
                    s.file.display().to_string()
                };
                outln!(
                    "{:<20} {:>3} case(s)  {:<24} {}",
                    s.id,
                    s.cases.len(),
                    origin,
                    s.description
                );
            }
        }
        ListWhat::Cases => {
            for s in &project.suites {
                for c in &s.cases {
                    let tags = if c.tags.is_empty() {
                        String::new()
                    } else {
                        format!(" [{}]", c.tags.join(", "))
                    };
                    outln!("{:<40} {}{tags}", c.full_id(), c.feature);
                }
            }
        }
        ListWhat::Features => {
            let mut seen: Vec<&str> = Vec::new();
            for c in project.suites.iter().flat_map(|s| s.cases.iter()) {
                if !seen.contains(&c.feature.as_str()) {
                    seen.push(&c.feature);
                    outln!("{}", c.feature);
                }
            }
        }
        ListWhat::Checks | ListWhat::Targets | ListWhat::Deviations => {
            unreachable!("handled above")
        }
    }
    Ok(exit::OK)
}
