//! Attribute macros of another crate than glomers, named like words a
//! `#[maelstrom_node]` impl block might once have claimed: `on`, `route`,
//! `timer`, `start` and `msg`. Each leaves the function it marks as it is
//! and adds, next to it, a constant that records that it ran:
//! `#[route("/echo")] fn echo` adds `const echo_route: &str = "\"/echo\"";`
//! (the attribute's arguments as written). The trybuild cases use them to
//! show that `#[maelstrom_node]` leaves attributes it does not own to rustc.

use proc_macro::{TokenStream, TokenTree};

/// Records `#[on(...)]` as `const <fn>_on`.
#[proc_macro_attribute]
pub fn on(args: TokenStream, item: TokenStream) -> TokenStream {
    mark("on", args, item)
}

/// Records `#[route(...)]` as `const <fn>_route`.
#[proc_macro_attribute]
pub fn route(args: TokenStream, item: TokenStream) -> TokenStream {
    mark("route", args, item)
}

/// Records `#[timer(...)]` as `const <fn>_timer`.
#[proc_macro_attribute]
pub fn timer(args: TokenStream, item: TokenStream) -> TokenStream {
    mark("timer", args, item)
}

/// Records `#[start(...)]` as `const <fn>_start`.
#[proc_macro_attribute]
pub fn start(args: TokenStream, item: TokenStream) -> TokenStream {
    mark("start", args, item)
}

/// Records `#[msg(...)]` as `const <fn>_msg`.
#[proc_macro_attribute]
pub fn msg(args: TokenStream, item: TokenStream) -> TokenStream {
    mark("msg", args, item)
}

/// `item` as it is, followed by `const <fn>_<attribute>: &str = "<args>";`.
fn mark(attribute: &str, args: TokenStream, item: TokenStream) -> TokenStream {
    let mut tokens = item.clone().into_iter();
    let name = loop {
        match tokens.next() {
            Some(TokenTree::Ident(ident)) if ident.to_string() == "fn" => match tokens.next() {
                Some(TokenTree::Ident(name)) => break name.to_string(),
                _ => panic!("#[{attribute}]: expected a function name after `fn`"),
            },
            Some(_) => {}
            None => panic!("#[{attribute}] goes on a function"),
        }
    };
    let constant = format!(
        "#[allow(non_upper_case_globals, dead_code)] const {name}_{attribute}: &str = {:?};",
        args.to_string()
    );
    let mut output = item;
    output.extend(constant.parse::<TokenStream>().expect("a constant"));
    output
}
