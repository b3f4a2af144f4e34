//! Every misuse of `#[maelstrom_node]` fails with a clear error at the
//! offending tokens (`ui/fail`), and every supported form compiles and
//! behaves (`ui/pass`, each a program that drives its node and asserts).

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
