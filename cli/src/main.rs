//! `suomifi-ops`: the operator command line (being written).

fn main() {}
