//! Parsing of the helper attributes `#[handle]`, `#[every]` and `#[init]`.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::parse::ParseStream;
use syn::spanned::Spanned;
use syn::{Attribute, Ident, LitInt, LitStr, Meta, Path, Token};

use crate::errors::Errors;
use crate::suggest::closest;

/// What an attribute makes of a method.
pub enum Role {
    /// `#[handle("type")]` or `#[handle("type", no_reply)]`.
    Handle {
        kind: LitStr,
        no_reply: Option<Ident>,
    },
    /// `#[every(ms = N)]`.
    Every { ms: u64 },
    /// `#[init]`.
    Init,
}

/// One role attribute and where it was written.
pub struct RoleAttr {
    pub role: Role,
    pub span: Span,
}

/// Takes `#[handle]`, `#[every]` and `#[init]` off `attrs` and parses them
/// (also when written by their path in this crate, `#[glomers::handle]`).
/// Every other attribute is left as written, for rustc to resolve: a
/// misspelt `#[handel]` is rustc's "cannot find attribute", which suggests
/// `handle` when the prelude is in scope.
pub fn take_roles(attrs: &mut Vec<Attribute>, errors: &mut Errors) -> Vec<RoleAttr> {
    let mut roles = Vec::new();
    attrs.retain(|attr| {
        let parsed = match role_name(attr.path()).as_deref() {
            Some("handle") => parse_handle(attr),
            Some("every") => parse_every(attr),
            Some("init") => parse_init(attr),
            _ => return true,
        };
        match parsed {
            Ok(role) => roles.push(RoleAttr {
                role,
                span: attr.span(),
            }),
            Err(err) => errors.push(err),
        }
        false
    });
    roles
}

/// The name of one of our attributes that `path` names: `handle`, or
/// `glomers::handle`, `glomers::prelude::handle`, `glomers_macros::handle`
/// (with or without a leading `::`). Any other path is someone else's.
fn role_name(path: &Path) -> Option<String> {
    let names: Vec<String> = path
        .segments
        .iter()
        .map(|segment| segment.ident.unraw().to_string())
        .collect();
    let (last, prefix) = names.split_last()?;
    let ours = match prefix {
        [] => path.leading_colon.is_none(),
        [krate] => krate == "glomers" || krate == "glomers_macros",
        [krate, module] => krate == "glomers" && module == "prelude",
        _ => false,
    };
    (ours && ["handle", "every", "init"].contains(&last.as_str())).then(|| last.clone())
}

fn parse_handle(attr: &Attribute) -> syn::Result<Role> {
    let Meta::List(list) = &attr.meta else {
        return Err(syn::Error::new_spanned(
            attr,
            "`#[handle]` needs the message type it handles, as a string: `#[handle(\"echo\")]`",
        ));
    };
    list.parse_args_with(|input: ParseStream| {
        let kind = if input.peek(LitStr) {
            input.parse::<LitStr>()?
        } else if input.is_empty() {
            return Err(syn::Error::new_spanned(
                list,
                "`#[handle]` needs the message type it handles, as a string: `#[handle(\"echo\")]`",
            ));
        } else {
            let found = input.fork().call(Ident::parse_any).ok();
            let hint = found.map_or_else(
                || "`#[handle(\"echo\")]`".to_owned(),
                |ident| format!("`#[handle(\"{}\")]`", ident.unraw()),
            );
            return Err(input.error(format_args!(
                "expected the message type as a string literal, as in {hint}"
            )));
        };
        let mut no_reply = None;
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            let option = input.call(Ident::parse_any)?;
            if option == "no_reply" {
                no_reply = Some(option);
            } else {
                let hint = closest(
                    &option.to_string(),
                    &["no_reply"],
                    &[("noreply", "no_reply")],
                )
                .map(|meant| format!("; did you mean `{meant}`?"))
                .unwrap_or_default();
                return Err(syn::Error::new(
                    option.span(),
                    format_args!(
                        "unknown option `{option}` of `#[handle]`{hint}\n\
                         help: the only option is `no_reply`: `#[handle(\"gossip\", no_reply)]`"
                    ),
                ));
            }
        }
        Ok(Role::Handle { kind, no_reply })
    })
}

fn parse_every(attr: &Attribute) -> syn::Result<Role> {
    const USAGE: &str = "expected a positive period in milliseconds: `#[every(ms = 100)]`";
    let Meta::List(list) = &attr.meta else {
        return Err(syn::Error::new_spanned(attr, USAGE));
    };
    list.parse_args_with(|input: ParseStream| {
        if input.is_empty() {
            return Err(syn::Error::new_spanned(list, USAGE));
        }
        if input.peek(LitInt) {
            let lit: LitInt = input.parse()?;
            return Err(syn::Error::new(
                lit.span(),
                format_args!("name the unit: `#[every(ms = {})]`", lit.base10_digits()),
            ));
        }
        let key = input.call(Ident::parse_any)?;
        if ["s", "sec", "secs", "seconds"].contains(&key.to_string().as_str()) {
            let example = if input.parse::<Token![=]>().is_ok() && input.peek(LitInt) {
                let secs: u64 = input.parse::<LitInt>()?.base10_parse()?;
                format!("`#[every(ms = {})]`", secs.saturating_mul(1000))
            } else {
                "`#[every(ms = 1000)]`".to_owned()
            };
            return Err(syn::Error::new(
                key.span(),
                format_args!("periods are given in milliseconds: write {example}"),
            ));
        }
        if key != "ms" {
            let hint = closest(
                &key.to_string(),
                &["ms"],
                &[
                    ("millis", "ms"),
                    ("milliseconds", "ms"),
                    ("period", "ms"),
                    ("interval", "ms"),
                ],
            )
            .map(|meant| format!("; did you mean `{meant}`?"))
            .unwrap_or_default();
            return Err(syn::Error::new(
                key.span(),
                format_args!("unknown key `{key}`{hint}\nhelp: {USAGE}"),
            ));
        }
        input.parse::<Token![=]>()?;
        if !input.peek(LitInt) {
            let found: proc_macro2::TokenStream = input.parse()?;
            return Err(syn::Error::new_spanned(found, USAGE));
        }
        let lit: LitInt = input.parse()?;
        if !lit.suffix().is_empty() {
            let digits = lit.base10_digits();
            let ms = match lit.suffix() {
                "ms" => digits.to_owned(),
                "s" | "sec" | "secs" => digits.parse::<u64>().map_or_else(
                    |_| digits.to_owned(),
                    |n| n.saturating_mul(1000).to_string(),
                ),
                _ => "100".to_owned(),
            };
            return Err(syn::Error::new(
                lit.span(),
                format_args!(
                    "`{lit}`: the period is a number of milliseconds, with no unit suffix\n\
                     help: write `#[every(ms = {ms})]`"
                ),
            ));
        }
        match lit.base10_parse::<u64>() {
            Ok(0) => Err(syn::Error::new(
                lit.span(),
                "the period must be at least 1 ms: `#[every(ms = 100)]`",
            )),
            Ok(ms) => Ok(Role::Every { ms }),
            Err(_) => Err(syn::Error::new(lit.span(), USAGE)),
        }
    })
}

fn parse_init(attr: &Attribute) -> syn::Result<Role> {
    match &attr.meta {
        Meta::Path(_) => Ok(Role::Init),
        other => Err(syn::Error::new_spanned(
            other,
            "`#[init]` takes no arguments: write `#[init]`",
        )),
    }
}
