//! The `#[maelstrom_node]` attribute of the `glomers` crate; see its docs.
//!
//! The expansion is a pipeline, one module a step: `ast` reads the impl
//! block into a typed model (with `attr` for the helper attributes),
//! `valid` checks every rule and records all errors at once, and
//! `expand` generates the code.

use proc_macro::TokenStream;
use quote::quote;
use syn::{Item, ItemStruct};

mod ast;
mod attr;
mod errors;
mod expand;
mod suggest;
mod valid;

use errors::Errors;

#[doc = include_str!("dsl.md")]
#[proc_macro_attribute]
pub fn maelstrom_node(args: TokenStream, input: TokenStream) -> TokenStream {
    let args = proc_macro2::TokenStream::from(args);
    let mut errors = Errors::default();
    if !args.is_empty() {
        errors.at(&args, "`#[maelstrom_node]` takes no arguments");
    }
    let output = match syn::parse::<Item>(input.clone()) {
        Ok(Item::Struct(item)) => node_struct(item, &mut errors),
        Ok(Item::Impl(item)) => node_impl(item, &mut errors),
        Ok(other) => {
            errors.at(
                item_keyword(&other),
                "`#[maelstrom_node]` goes on a struct and on its impl block\n\
                 help: write the node's state as `struct MyNode { ... }`, and its handlers in `impl MyNode { ... }`",
            );
            proc_macro2::TokenStream::from(input)
        }
        Err(err) => {
            errors.push(err);
            proc_macro2::TokenStream::from(input)
        }
    };
    let compile_errors = errors.to_compile_errors();
    quote!(#output #compile_errors).into()
}

/// Marks a method of a `#[maelstrom_node]` impl block as the handler of one
/// message type: `#[handle("type")]`, or `#[handle("type", no_reply)]`
/// for a message that is not answered. See [`macro@maelstrom_node`].
///
/// `#[maelstrom_node]` takes this attribute off the methods of its impl
/// block before it is ever expanded. Written anywhere else, it is a compile
/// error. It is an attribute macro so that it is in scope with the
/// prelude: rustc then answers a misspelt `#[handel]` with "cannot find
/// attribute `handel` in this scope" and "help: an attribute macro with a
/// similar name exists", and suggests `#[handle]`.
#[proc_macro_attribute]
pub fn handle(_args: TokenStream, input: TokenStream) -> TokenStream {
    stray("handle", input)
}

/// Runs a method of a `#[maelstrom_node]` impl block every `N`
/// milliseconds after `init`: `#[every(ms = N)]`. See
/// [`macro@maelstrom_node`]; like [`macro@handle`], it has meaning only
/// there.
#[proc_macro_attribute]
pub fn every(_args: TokenStream, input: TokenStream) -> TokenStream {
    stray("every", input)
}

/// Runs a method of a `#[maelstrom_node]` impl block once, after `init`:
/// `#[init]`. See [`macro@maelstrom_node`]; like [`macro@handle`], it has
/// meaning only there.
#[proc_macro_attribute]
pub fn init(_args: TokenStream, input: TokenStream) -> TokenStream {
    stray("init", input)
}

/// One of our attributes outside a `#[maelstrom_node]` impl block, which
/// would have taken it off: the item as written, and an error at the
/// attribute.
fn stray(name: &str, input: TokenStream) -> TokenStream {
    let error = syn::Error::new(
        proc_macro2::Span::call_site(),
        format_args!(
            "`#[{name}]` has meaning only on a method of an impl block marked `#[maelstrom_node]`\n\
             help: write it on a method of the node's impl block, and put `#[maelstrom_node]` on that block and on the struct"
        ),
    )
    .to_compile_error();
    let input = proc_macro2::TokenStream::from(input);
    quote!(#error #input).into()
}

/// The struct as written, marked so the impl side can check it, with the
/// alias `<Struct>Msg` of the message enum its impl block generates.
fn node_struct(item: ItemStruct, errors: &mut Errors) -> proc_macro2::TokenStream {
    if !item.generics.params.is_empty() {
        errors.at(
            &item.generics,
            "a `#[maelstrom_node]` struct cannot be generic; keep the node's type concrete",
        );
        return quote!(#item);
    }
    let name = &item.ident;
    let vis = &item.vis;
    let alias = expand::alias_ident(name);
    let doc = format!(
        "The messages `{name}` handles, one variant per `#[handle(\"type\")]` in CamelCase, with the handler's fields; each serializes with its `type` tag, ready for `Ctx::send` or `Ctx::rpc`."
    );
    quote! {
        #item
        impl ::glomers::__private::NodeStruct for #name {}
        #[doc = #doc]
        #[allow(dead_code)]
        #vis type #alias = <#name as ::glomers::__private::Handlers>::Msg;
    }
}

fn node_impl(item: syn::ItemImpl, errors: &mut Errors) -> proc_macro2::TokenStream {
    let fallback = {
        let mut plain = item.clone();
        strip_helper_attributes(&mut plain);
        quote!(#plain)
    };
    let Some(node) = ast::parse(item, errors) else {
        return fallback;
    };
    valid::check(&node, errors);
    if errors.is_empty() {
        expand::node_impl(&node)
    } else {
        // The user's code (so that its own errors still show), and items
        // that stand in for the generated ones, so that nothing else fails
        // for want of them.
        expand::fallback(&node)
    }
}

/// Takes the helper attributes off, for output when expansion is skipped.
fn strip_helper_attributes(item: &mut syn::ItemImpl) {
    let mut ignored = Errors::default();
    for impl_item in &mut item.items {
        if let syn::ImplItem::Fn(function) = impl_item {
            attr::take_roles(&mut function.attrs, &mut ignored);
        }
    }
}

/// The tokens to point at when the attribute sits on the wrong kind of item.
fn item_keyword(item: &Item) -> proc_macro2::TokenStream {
    match item {
        Item::Enum(item) => {
            let token = &item.enum_token;
            let ident = &item.ident;
            quote!(#token #ident)
        }
        Item::Fn(item) => {
            let sig = &item.sig;
            let fn_token = &sig.fn_token;
            let ident = &sig.ident;
            quote!(#fn_token #ident)
        }
        Item::Trait(item) => {
            let token = &item.trait_token;
            let ident = &item.ident;
            quote!(#token #ident)
        }
        other => quote!(#other),
    }
}
