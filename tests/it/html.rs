//! The HTML report in a real headless browser.

#[allow(unused_imports)]
use crate::support::*;
