//! Every rule a node must follow, each reported at the tokens that break it.

use std::collections::HashMap;

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::{Ident, Type};

use crate::ast::{Method, NodeImpl, Output, ParamKind, Receiver};
use crate::attr::Role;
use crate::errors::Errors;

/// Body fields the runtime owns.
const RESERVED: &[&str] = &["type", "msg_id", "in_reply_to"];

/// Checks the whole node, recording every problem.
pub fn check(node: &NodeImpl, errors: &mut Errors) {
    let item = &node.item;
    if let Some((_, trait_path, _)) = &item.trait_ {
        errors.at(
            trait_path,
            "`#[maelstrom_node]` goes on the struct's own impl block (`impl Echo`), not on a trait impl",
        );
    }
    if !item.generics.params.is_empty() {
        errors.at(
            &item.generics,
            "a `#[maelstrom_node]` impl cannot be generic; keep the node's type concrete",
        );
    }
    check_types_are_unique(node, errors);
    check_single_init(node, errors);
    for method in &node.methods {
        check_method(method, errors);
    }
}

fn check_types_are_unique(node: &NodeImpl, errors: &mut Errors) {
    let mut by_type: HashMap<String, &Method> = HashMap::new();
    let mut by_variant: HashMap<String, &syn::LitStr> = HashMap::new();
    for method in &node.methods {
        let Some(kind) = method.handled() else {
            continue;
        };
        let value = kind.value();
        if value.is_empty() {
            errors.at(
                kind,
                "the message type cannot be empty: `#[handle(\"echo\")]`",
            );
            continue;
        }
        if value == "init" {
            errors.at(
                kind,
                "`init` is handled by the runtime (it records the node ids and answers `init_ok`)\n\
                 help: to run code after it, mark a method `#[init]`",
            );
            continue;
        }
        if let Some(first) = by_type.get(&value) {
            errors.at(
                kind,
                format_args!(
                    "message type `{value}` is already handled by `fn {}`\n\
                     help: each message type has one handler; remove or rename one of them",
                    first.ident
                ),
            );
            continue;
        }
        by_type.insert(value.clone(), method);
        match variant_name(&value) {
            None => errors.at(
                kind,
                format_args!(
                    "message type `{value}` cannot name a variant of the generated message enum\n\
                     help: use letters, digits, `_` and `-`, starting with a letter"
                ),
            ),
            Some(variant) => {
                if let Some(other) = by_variant.insert(variant.to_string(), kind) {
                    errors.at(
                        kind,
                        format_args!(
                            "message types `{}` and `{value}` both become the enum variant `{variant}`",
                            other.value()
                        ),
                    );
                }
            }
        }
    }
}

fn check_single_init(node: &NodeImpl, errors: &mut Errors) {
    let mut inits = node
        .methods
        .iter()
        .filter(|method| matches!(method.role(), Some(Role::Init)));
    if let Some(first) = inits.next() {
        for extra in inits {
            errors.at(
                &extra.ident,
                format_args!(
                    "only one method can be `#[init]`; `{}` is already",
                    first.ident
                ),
            );
        }
    }
}

fn check_method(method: &Method, errors: &mut Errors) {
    if method.roles.len() > 1 {
        for role in &method.roles[1..] {
            errors.at_span(
                role.span,
                "a method takes one of `#[handle]`, `#[every]` and `#[init]`, once",
            );
        }
        return;
    }
    let Some(role) = method.role() else {
        return;
    };
    let what = match role {
        Role::Handle { .. } => "a handler",
        Role::Every { .. } => "an `#[every]` method",
        Role::Init => "the `#[init]` method",
    };
    if let Some(span) = method.generics {
        errors.at_span(span, format_args!("{what} cannot have generic parameters"));
    }
    check_receiver(method, what, errors);
    check_params(method, role, what, errors);
    if let Role::Handle {
        kind,
        no_reply: None,
    } = role
    {
        check_reply_types(method, &kind.value(), errors);
    }
    if let Role::Handle {
        no_reply: Some(no_reply),
        ..
    } = role
    {
        if let Output::Result(ty) | Output::Value(ty) = &method.output {
            errors.at(
                ty,
                format_args!(
                    "`{no_reply}` handlers send no reply, so they return nothing\n\
                     help: remove the return type, or drop `no_reply` to send this as the reply"
                ),
            );
        }
    }
}

fn check_receiver(method: &Method, what: &str, errors: &mut Errors) {
    let Some(receiver) = &method.receiver_tokens else {
        return;
    };
    match (&method.receiver, method.asyncness) {
        (Receiver::ByValue, _) => errors.at(
            receiver,
            format_args!(
                "{what} cannot take `self` by value: the runtime keeps the node's state\n\
                 help: take `&mut self` (or `&self`)"
            ),
        ),
        (Receiver::Typed, _) => errors.at(
            receiver,
            format_args!("{what} takes `&mut self` or `&self`, not a typed `self`"),
        ),
        (Receiver::Shared | Receiver::Exclusive, Some(_)) => errors.at(
            receiver,
            format_args!(
                "an async method cannot take `self`: a borrow of the state would be held across `.await`\n\
                 help: take `mut node: Node<Self>` instead of `self`, and reach the state with `node.with(|state| ...)`"
            ),
        ),
        _ => {}
    }
}

fn check_params(method: &Method, role: &Role, what: &str, errors: &mut Errors) {
    let mut seen_ctx = false;
    let mut seen_src = false;
    let mut seen_node = false;
    let mut seen_responder = false;
    for param in &method.params {
        let written = &param.tokens;
        match &param.kind {
            ParamKind::Ctx { .. } => {
                if std::mem::replace(&mut seen_ctx, true) {
                    errors.at(written, "the context is already a parameter; take it once");
                }
            }
            ParamKind::CtxMut => errors.at(
                written,
                "take the context as `ctx: &Ctx` (or `ctx: Ctx`); it needs no `&mut`",
            ),
            ParamKind::Src { .. } => {
                if !matches!(role, Role::Handle { .. }) {
                    errors.at(
                        written,
                        format_args!("{what} runs with no message, so there is no `Src` to take"),
                    );
                } else if std::mem::replace(&mut seen_src, true) {
                    errors.at(written, "the sender is already a parameter; take it once");
                }
            }
            ParamKind::Node => {
                if method.asyncness.is_none() {
                    errors.at(
                        written,
                        format_args!(
                            "`Node<Self>` is for async methods; {what} that is not async takes `&mut self`"
                        ),
                    );
                } else if std::mem::replace(&mut seen_node, true) {
                    errors.at(
                        written,
                        "the node handle is already a parameter; take it once",
                    );
                }
            }
            ParamKind::Responder => match role {
                Role::Handle {
                    no_reply: Some(no_reply),
                    ..
                } => errors.at(
                    written,
                    format_args!(
                        "a `{no_reply}` handler answers nothing, so it has no responder\n\
                         help: drop `{no_reply}` to answer through the responder, or remove this parameter"
                    ),
                ),
                Role::Handle { .. } => {
                    if std::mem::replace(&mut seen_responder, true) {
                        errors.at(written, "the responder is already a parameter; take it once");
                    } else if let Output::Result(ty) | Output::Value(ty) = &method.output {
                        errors.at(
                            ty,
                            "a handler that takes a `Responder` answers through it, so it returns nothing\n\
                             help: remove the return type, and answer with `reply.ok(..)`, `reply.error(..)` or `reply.result(..)`",
                        );
                    }
                }
                _ => errors.at(
                    written,
                    format_args!("{what} answers no request, so there is no `Responder` to take"),
                ),
            },
            ParamKind::Field { name, ty } => {
                if !matches!(role, Role::Handle { .. }) {
                    errors.at(
                        written,
                        format_args!(
                            "{what} runs with no message, so it has no body fields\n\
                             help: it can take `&mut self` (or `node: Node<Self>` when async) and `ctx: &Ctx`"
                        ),
                    );
                    continue;
                }
                check_field(name.as_ref(), ty, written, errors);
            }
        }
    }
}

fn check_field(name: Option<&Ident>, ty: &Type, written: &TokenStream, errors: &mut Errors) {
    let Some(name) = name else {
        errors.at(
            written,
            "a body field parameter must be a plain name: the name is the field's JSON key",
        );
        return;
    };
    let key = name.unraw().to_string();
    if key == "src" {
        errors.at(
            written,
            "`src` is the message's sender, not a field of its body\n\
             help: take it as `src: Src` (or `src: &Src`); `Src` derefs to `&str`, and `String::from(src)` owns it",
        );
        return;
    }
    if key == "dest" {
        errors.at(
            written,
            "`dest` is not a field of the body: a message's `dest` is this node\n\
             help: take `ctx: &Ctx` and use `ctx.node_id()`",
        );
        return;
    }
    if RESERVED.contains(&key.as_str()) {
        errors.at(
            name,
            format_args!(
                "`{key}` is set by the runtime, not a body field a handler can take\n\
                 help: remove this parameter; the runtime reads `type`, `msg_id` and `in_reply_to` itself"
            ),
        );
    }
    if let Type::Reference(reference) = ty {
        errors.at(
            reference,
            format_args!(
                "body fields are parsed into owned values, so `{key}` cannot be a reference\n\
                 help: take an owned type, such as `String` for `&str` or `Vec<T>` for `&[T]`"
            ),
        );
    } else if mentions_self(ty.to_token_stream()) {
        errors.at(
            ty,
            "a body field's type cannot mention `Self`: it is also a field of the generated message enum\n\
             help: write the type by its name",
        );
    }
}

/// Reply types that cannot become a reply body, told by their spelling: a
/// reply's fields are merged into the body, so it must be a JSON object.
fn check_reply_types(method: &Method, kind: &str, errors: &mut Errors) {
    let reply = match &method.output {
        Output::Value(ty) => Some(&**ty),
        Output::Result(_) => method.output.result_types().map(|(ok, _)| ok),
        Output::Unit => None,
    };
    let from_responder = method.params.iter().find_map(|param| match param.kind {
        ParamKind::Responder => crate::ast::type_argument(&param.ty),
        _ => None,
    });
    for ty in reply.into_iter().chain(from_responder) {
        if let Some(problem) = not_an_object(ty, kind) {
            errors.at(ty, problem);
        }
    }
}

/// Why `ty` cannot be a reply body, if its spelling shows it.
fn not_an_object(ty: &Type, kind: &str) -> Option<String> {
    let written = spelled(ty);
    let struct_name = variant_name(&format!("{kind}_ok"))
        .map_or_else(|| "ReplyOk".to_owned(), |ident| ident.to_string());
    let wrap = || {
        format!(
            "`{written}` cannot be a reply: its fields are merged into `{{\"type\": \"{kind}_ok\", ...}}`, \
             so it must serialize as a JSON object\n\
             help: wrap it in a struct: `#[derive(Serialize)] struct {struct_name} {{ value: {written} }}`"
        )
    };
    match ty {
        Type::Tuple(tuple) if !tuple.elems.is_empty() => Some(wrap()),
        Type::Array(_) | Type::Slice(_) => Some(wrap()),
        Type::Reference(reference) => not_an_object(&reference.elem, kind),
        Type::Paren(inner) => not_an_object(&inner.elem, kind),
        Type::Path(path) if path.qself.is_none() => {
            let last = path.path.segments.last()?.ident.to_string();
            match last.as_str() {
                "Option" => {
                    let inner =
                        crate::ast::type_argument(ty).map_or_else(|| "T".to_owned(), spelled);
                    Some(format!(
                        "`{written}` cannot be a reply: `None` has no fields to put in the reply body\n\
                         help: return `Result<{inner}, Error>`, with an error for the case of nothing"
                    ))
                }
                "bool" | "char" | "str" | "String" | "u8" | "u16" | "u32" | "u64" | "u128"
                | "usize" | "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "f32" | "f64"
                | "Vec" | "VecDeque" | "HashSet" | "BTreeSet" | "LinkedList" | "BinaryHeap" => {
                    Some(wrap())
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// A type as the author wrote it, without the token stream's spaces.
fn spelled(ty: &Type) -> String {
    let text = ty.to_token_stream().to_string();
    text.replace(" < ", "<")
        .replace("< ", "<")
        .replace(" >", ">")
        .replace(" ,", ",")
        .replace("& ", "&")
        .replace(" :: ", "::")
}

fn mentions_self(tokens: proc_macro2::TokenStream) -> bool {
    tokens.into_iter().any(|token| match token {
        TokenTree::Ident(ident) => ident == "Self",
        TokenTree::Group(group) => mentions_self(group.stream()),
        _ => false,
    })
}

/// The CamelCase variant name for a message type (`read_ok` → `ReadOk`).
pub fn variant_name(kind: &str) -> Option<Ident> {
    let mut name = String::new();
    for part in kind.split(['_', '-']).filter(|part| !part.is_empty()) {
        let mut chars = part.chars();
        let first = chars.next()?;
        name.extend(first.to_uppercase());
        name.push_str(chars.as_str());
    }
    let starts_well = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    let all_plain = name.chars().all(|c| c.is_ascii_alphanumeric());
    (starts_well && all_plain)
        .then(|| syn::parse_str::<Ident>(&name).ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::variant_name;

    #[test]
    fn variant_names_are_camel_case() {
        let name = |kind| variant_name(kind).map(|ident| ident.to_string());
        assert_eq!(name("echo").as_deref(), Some("Echo"));
        assert_eq!(name("read_ok").as_deref(), Some("ReadOk"));
        assert_eq!(name("commit-offsets").as_deref(), Some("CommitOffsets"));
        assert_eq!(name("txn").as_deref(), Some("Txn"));
        assert_eq!(name("2pc"), None);
        assert_eq!(name("a b"), None);
        assert_eq!(name("é"), None);
    }
}
