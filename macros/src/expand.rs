//! Code generation for a validated node: the message enum and the
//! `glomers::__private::OneMaelstromNodeImplBlockPerStruct` impl (which gives the node `Handlers`) that dispatches to the methods.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::Ident;

use quote::ToTokens;

use crate::ast::{Method, NodeImpl, Output, ParamKind, Receiver};
use crate::attr::Role;
use crate::valid::variant_name;

/// The impl block (without helper attributes) and everything generated.
/// Every generated name comes from the struct's name, so that the output
/// depends on this impl block's tokens alone.
pub fn node_impl(node: &NodeImpl) -> TokenStream {
    let item = &node.item;
    let self_ty = &item.self_ty;
    let handlers = handlers(node);
    let msg = enum_ident(node);
    let message_enum = message_enum(node, &handlers, &msg, &Fields::All);
    let serialize = serialize_enum(&handlers, &msg);
    let checks = checks(node);
    let types = handlers.iter().filter_map(|m| m.handled());
    let dispatch = dispatch(&handlers);
    let periodic = node.methods.iter().filter_map(periodic);
    let on_init = node
        .methods
        .iter()
        .find(|m| matches!(m.role(), Some(Role::Init)))
        .map(on_init);
    let assert_struct = quote_spanned! {self_ty.span()=>
        const _: () = ::glomers::__private::assert_node_struct::<#self_ty>();
    };
    // One impl of the trait per struct: a second impl block conflicts here,
    // and nowhere else (each block's enum lives in an unnamed const of its
    // own, the alias is the struct's), and the trait's name says what to do.
    let impl_token = quote_spanned!(self_ty.span()=> impl);
    quote! {
        #item

        #assert_struct

        #checks

        const _: () = {
            #message_enum

            #serialize

            // The runtime calling a `#[deprecated]` handler is no use of it
            // by the author.
            #[allow(deprecated)]
            #impl_token ::glomers::__private::OneMaelstromNodeImplBlockPerStruct for #self_ty {
                type Msg = #msg;

                const TYPES: &'static [&'static str] = &[#(#types),*];

                #dispatch

                fn periodic() -> ::std::vec::Vec<::glomers::__private::Periodic<Self>> {
                    ::std::vec![#(#periodic),*]
                }

                #on_init
            }
        };
    }
}

/// What stands in for the generated items when the impl block has errors:
/// the message enum and an `impl Handlers` whose bodies never run, so that
/// the only errors shown are the macro's own, not a cascade at
/// `glomers::run` or wherever the enum is used.
pub fn fallback(node: &NodeImpl) -> TokenStream {
    let item = &node.item;
    let self_ty = &item.self_ty;
    let handlers: Vec<&Method> = handlers(node)
        .into_iter()
        .filter(|m| m.handled().and_then(|k| variant_name(&k.value())).is_some())
        .collect();
    let mut seen = std::collections::HashSet::new();
    let handlers: Vec<&Method> = handlers
        .into_iter()
        .filter(|m| {
            let kind = m.handled().map(syn::LitStr::value).unwrap_or_default();
            kind != "init" && seen.insert(variant_name(&kind).map(|v| v.to_string()))
        })
        .collect();
    let msg = enum_ident(node);
    let message_enum = message_enum(node, &handlers, &msg, &Fields::Plain);
    let impl_token = quote_spanned!(self_ty.span()=> impl);
    quote! {
        #item

        const _: () = {
            #message_enum

            impl ::glomers::__private::serde::Serialize for #msg {
                fn serialize<__S: ::glomers::__private::serde::Serializer>(
                    &self,
                    _: __S,
                ) -> ::std::result::Result<__S::Ok, __S::Error> {
                    ::std::unreachable!("`#[maelstrom_node]` reported errors: this program does not compile")
                }
            }

            #impl_token ::glomers::__private::OneMaelstromNodeImplBlockPerStruct for #self_ty {
                type Msg = #msg;

                const TYPES: &'static [&'static str] = &[];

                fn dispatch(
                    _: &::glomers::__private::Shared<Self>,
                    _: &::glomers::Ctx,
                    _: ::glomers::__private::Request<'_>,
                ) -> ::std::result::Result<(), ::glomers::__private::serde_json::Error> {
                    ::std::unreachable!("`#[maelstrom_node]` reported errors: this program does not compile")
                }
            }
        };
    }
}

/// The methods that handle a message type.
fn handlers(node: &NodeImpl) -> Vec<&Method> {
    node.methods
        .iter()
        .filter(|m| m.handled().is_some())
        .collect()
}

/// The generated enum's own name, `__<Struct>Msg` (what rustc's messages
/// call it); `<Struct>Msg` is an alias of it. It is declared in an unnamed
/// const, so that a second impl block of the struct does not clash with it.
fn enum_ident(node: &NodeImpl) -> Ident {
    format_ident!("__{}", alias_ident(&node.name))
}

/// The alias `<Struct>Msg` the struct's attribute defines.
pub fn alias_ident(name: &Ident) -> Ident {
    format_ident!("{}Msg", name)
}

/// Which fields a fallback enum keeps.
enum Fields {
    All,
    /// Only those whose types can stand in an enum whatever was wrong.
    Plain,
}

/// The message enum, one variant per handled type.
fn message_enum(
    node: &NodeImpl,
    handlers: &[&Method],
    msg: &Ident,
    fields: &Fields,
) -> TokenStream {
    let doc = format!(
        "The messages `{}` handles, one variant per `#[handle]`; each serializes with its `type` tag, ready for `Ctx::send` or `Ctx::rpc`. Name it `{}`.",
        node.name,
        alias_ident(&node.name)
    );
    let variants = handlers.iter().map(|method| {
        let kind = method.handled().expect("handlers only");
        let variant = variant_name(&kind.value()).expect("validated");
        let fields = method
            .fields()
            .filter(|(_, ty)| match fields {
                Fields::All => true,
                Fields::Plain => plain_type(ty),
            })
            .map(|(name, ty)| quote!(#name: #ty));
        let doc = format!("`{}`, handled by `{}`.", kind.value(), method.ident);
        quote! {
            #[doc = #doc]
            #variant { #(#fields),* }
        }
    });
    quote! {
        #[doc = #doc]
        #[doc(hidden)]
        // `pub` (it is the `Handlers::Msg` of a struct that may be public)
        // but hidden; its fields may be of the author's private types.
        #[allow(dead_code, non_camel_case_types, private_interfaces)]
        pub enum #msg {
            #(#variants),*
        }
    }
}

/// Whether `ty` can be a field of a fallback enum: no reference, no `Self`.
fn plain_type(ty: &syn::Type) -> bool {
    !matches!(ty, syn::Type::Reference(_))
        && !ty
            .to_token_stream()
            .into_iter()
            .any(|t| matches!(&t, proc_macro2::TokenTree::Ident(i) if i == "Self"))
}

/// `Serialize` for the message enum: `{"type": "<kind>", ...fields}`. Each
/// field goes through a probe, so a field type that is not `Serialize` is
/// reported once, by the checks, and not again here.
fn serialize_enum(handlers: &[&Method], msg: &Ident) -> TokenStream {
    let arms = handlers.iter().map(|method| {
        let kind = method.handled().expect("handlers only");
        let variant = variant_name(&kind.value()).expect("validated");
        let names: Vec<&Ident> = method.fields().map(|(name, _)| name).collect();
        let count = names.len() + 1;
        let entries = method.fields().map(|(name, ty)| {
            let key = name.unraw().to_string();
            quote! {
                (&::glomers::__private::Probe::<#ty>::new()).entry(&mut __map, #key, #name)?;
            }
        });
        quote! {
            #msg::#variant { #(#names),* } => {
                let mut __map = __serializer.serialize_map(::std::option::Option::Some(#count))?;
                __map.serialize_entry("type", #kind)?;
                #(#entries)*
                __map.end()
            }
        }
    });
    let matched = if handlers.is_empty() {
        quote!(match *self {})
    } else {
        quote!(match self { #(#arms)* })
    };
    quote! {
        impl ::glomers::__private::serde::Serialize for #msg {
            fn serialize<__S: ::glomers::__private::serde::Serializer>(
                &self,
                __serializer: __S,
            ) -> ::std::result::Result<__S::Ok, __S::Error> {
                #[allow(unused_imports)]
                use ::glomers::__private::serde::ser::SerializeMap as _;
                #[allow(unused_imports)]
                use ::glomers::__private::{EntryFail as _, EntryPass as _};
                #matched
            }
        }
    }
}

/// The types the author wrote, each checked where it was written: body
/// fields, replies and error types.
fn checks(node: &NodeImpl) -> TokenStream {
    let mut checks = Vec::new();
    for method in &node.methods {
        if method.handled().is_none() {
            continue;
        }
        for (_, ty) in method.fields() {
            checks.push(quote_spanned! {ty.span()=>
                ::glomers::__private::body_field::<#ty, _>((&::glomers::__private::Probe::<#ty>::new()).field());
            });
        }
        let reply = match &method.output {
            Output::Value(ty) => Some(&**ty),
            Output::Result(_) => method.output.result_types().map(|(ok, _)| ok),
            Output::Unit => None,
        };
        if let Some(ty) = reply {
            checks.push(quote_spanned! {ty.span()=>
                ::glomers::__private::reply_body::<#ty, _>((&::glomers::__private::Probe::<#ty>::new()).reply());
            });
        }
        if let Some((_, err)) = method.output.result_types() {
            checks.push(quote_spanned! {err.span()=>
                ::glomers::__private::handler_error::<#err, _>((&::glomers::__private::Probe::<#err>::new()).error_type());
            });
        }
    }
    if checks.is_empty() {
        return TokenStream::new();
    }
    quote! {
        const _: () = {
            #[allow(dead_code, unused_imports, clippy::all)]
            fn __glomers_checks() {
                use ::glomers::__private::{
                    ErrorFail as _, ErrorPass as _, FieldFail as _, FieldPass as _, ReplyFail as _,
                    ReplyPass as _,
                };
                #(#checks)*
            }
        };
    }
}

fn dispatch(handlers: &[&Method]) -> TokenStream {
    let arms = handlers.iter().map(|method| {
        let kind = method.handled().expect("handlers only");
        let params: Vec<Ident> = (0..method.fields().count())
            .map(|i| format_ident!("__T{}", i))
            .collect();
        let names: Vec<&Ident> = method.fields().map(|(name, _)| name).collect();
        let types = method.fields().map(|(_, ty)| ty);
        let bindings = method.fields().map(|(name, _)| {
            let binding = field_binding(name);
            quote!(#name: #binding)
        });
        let no_reply = matches!(
            method.role(),
            Some(Role::Handle {
                no_reply: Some(_),
                ..
            })
        );
        let answers_itself = no_reply || method.takes_responder();
        let reply = (!answers_itself).then(|| quote!(let __responder = __request.responder(__ctx);));
        let call = invoke(
            method,
            if answers_itself {
                Reply::Discard
            } else {
                Reply::Respond
            },
        );
        // The body is parsed straight into the handler's fields: the runtime
        // has already read the type, so no tagged-enum buffering is needed.
        // The struct is generic so that a field type that is not
        // `Deserialize` is reported once, by the checks, and not here.
        quote! {
            #kind => {
                #[derive(::glomers::__private::serde::Deserialize)]
                #[serde(crate = "::glomers::__private::serde")]
                struct __Fields<#(#params),*> { #(#names: #params),* }
                #[allow(unused_imports)]
                use ::glomers::__private::{ParseFail as _, ParsePass as _};
                let __Fields { #(#bindings),* } =
                    (&::glomers::__private::Probe::<__Fields<#(#types),*>>::new()).parse_body(&__request)?;
                #reply
                #call
                ::std::result::Result::Ok(())
            }
        }
    });
    quote! {
        #[allow(unused_variables)]
        fn dispatch(
            __state: &::glomers::__private::Shared<Self>,
            __ctx: &::glomers::Ctx,
            __request: ::glomers::__private::Request<'_>,
        ) -> ::std::result::Result<(), ::glomers::__private::serde_json::Error> {
            match __request.kind() {
                #(#arms)*
                __other => ::std::result::Result::Err(
                    <::glomers::__private::serde_json::Error as ::glomers::__private::serde::de::Error>::custom(
                        ::std::format_args!("no handler for `{}`", __other),
                    ),
                ),
            }
        }
    }
}

fn periodic(method: &Method) -> Option<TokenStream> {
    let Some(Role::Every { ms }) = method.role() else {
        return None;
    };
    let run = invoke(method, Reply::Periodic);
    let name = method.ident.unraw().to_string();
    Some(quote! {
        ::glomers::__private::Periodic {
            name: #name,
            period: ::std::time::Duration::from_millis(#ms),
            run: |__state, __ctx| { #run },
        }
    })
}

fn on_init(method: &Method) -> TokenStream {
    let run = invoke(method, Reply::Respond);
    quote! {
        #[allow(unused_variables)]
        fn on_init(
            __state: &::glomers::__private::Shared<Self>,
            __ctx: &::glomers::Ctx,
            __responder: ::glomers::Responder,
        ) {
            #run
        }
    }
}

/// What happens to a method's result.
#[derive(Clone, Copy)]
enum Reply {
    /// Answer the request through `__responder`.
    Respond,
    /// A `no_reply` handler: nothing to answer.
    Discard,
    /// An `#[every]` method: report errors, and yield the future if async.
    Periodic,
}

/// Calls `method` with `__state`, `__ctx` (and `__request`, field bindings)
/// in scope, and does with its result what `reply` says.
fn invoke(method: &Method, reply: Reply) -> TokenStream {
    let ident = &method.ident;
    let args = method.params.iter().map(|param| match &param.kind {
        ParamKind::Ctx { by_ref: true } => quote!(__ctx),
        ParamKind::Ctx { by_ref: false } | ParamKind::CtxMut => {
            quote!(::std::clone::Clone::clone(__ctx))
        }
        ParamKind::Src { by_ref: false } => quote!(__src),
        ParamKind::Src { by_ref: true } => quote!(&__src),
        ParamKind::Node => quote!(__node),
        ParamKind::Responder => quote!(__reply),
        ParamKind::Field { name, .. } => {
            let name = name.as_ref().expect("validated");
            let binding = field_binding(name);
            quote!(#binding)
        }
    });
    let takes_src = method
        .params
        .iter()
        .any(|p| matches!(p.kind, ParamKind::Src { .. }));
    let src = takes_src.then(
        || quote!(let __src = ::glomers::Src(::std::borrow::ToOwned::to_owned(__request.src()));),
    );
    let responder = method
        .takes_responder()
        .then(|| quote!(let __reply = __request.responder(__ctx);));
    let src = quote!(#src #responder);
    let method_name = ident.unraw().to_string();
    let handle_output = |output: TokenStream| -> TokenStream {
        match (reply, &method.output) {
            (Reply::Discard, _) => quote!(let () = #output;),
            (Reply::Periodic, _) => quote! {
                ::glomers::__private::PeriodicOutput::report(#output, #method_name)
            },
            (Reply::Respond, Output::Unit) => quote! {
                let () = #output;
                __responder.ok(());
            },
            (Reply::Respond, Output::Result(ty)) => match method.output.result_types() {
                // Through a probe: the checks report a bad `T` or `E` once.
                Some(_) => quote! {
                    #[allow(unused_imports)]
                    use ::glomers::__private::{ResultFail as _, ResultPass as _};
                    (&::glomers::__private::Probe::<#ty>::new()).answer_result(__responder, #output);
                },
                // An alias of `Result`: its bounds are checked by the call.
                None => quote_spanned! {ty.span()=>
                    ::glomers::Responder::result(__responder, #output);
                },
            },
            (Reply::Respond, Output::Value(ty)) => quote! {
                #[allow(unused_imports)]
                use ::glomers::__private::{AnswerFail as _, AnswerPass as _};
                (&::glomers::__private::Probe::<#ty>::new()).answer(__responder, #output);
            },
        }
    };

    if method.asyncness.is_none() {
        let call = match method.receiver {
            Receiver::None => quote!(Self::#ident(#(#args),*)),
            _ => quote! {
                ::glomers::__private::with_state(__state, |__this| Self::#ident(__this, #(#args),*))
            },
        };
        let done = handle_output(call);
        let tail = matches!(reply, Reply::Periodic).then(|| quote!(; ::std::option::Option::None));
        return quote! { #src #done #tail };
    }

    let takes_node = method
        .params
        .iter()
        .any(|p| matches!(p.kind, ParamKind::Node));
    let node = takes_node.then(|| quote!(let __node = ::glomers::__private::node_handle(__state);));
    let call = quote!(Self::#ident(#(#args),*).await);
    let moved_ctx = quote!(let __ctx = &__ctx_owned;);
    match reply {
        Reply::Periodic => quote! {
            #node
            let __ctx_owned = ::std::clone::Clone::clone(__ctx);
            ::glomers::__private::periodic_future(#method_name, async move {
                #moved_ctx
                #call
            })
        },
        Reply::Respond | Reply::Discard => {
            let done = handle_output(call);
            let what = format!("the `{method_name}` handler");
            quote! {
                #src
                #node
                let __ctx_owned = ::std::clone::Clone::clone(__ctx);
                ::glomers::__private::spawn_handler(__ctx, #what, async move {
                    #moved_ctx
                    #done
                });
            }
        }
    }
}

/// The local name a body field is bound to, clear of generated names.
fn field_binding(name: &Ident) -> Ident {
    Ident::new(&format!("__field_{}", name.unraw()), Span::call_site())
}
