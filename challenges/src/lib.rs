//! Challenge helpers.
