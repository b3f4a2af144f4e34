//! Code generation for a validated node: the message enum and the
//! `glomers::Handlers` impl that dispatches to the methods.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::Ident;

use crate::ast::{Method, NodeImpl, Output, ParamKind, Receiver};
use crate::attr::Role;
use crate::valid::variant_name;

/// The impl block (without helper attributes) and everything generated.
pub fn node_impl(node: &NodeImpl) -> TokenStream {
    let item = &node.item;
    let self_ty = &item.self_ty;
    let handlers: Vec<&Method> = node
        .methods
        .iter()
        .filter(|m| m.handled().is_some())
        .collect();
    let message_enum = message_enum(node, &handlers);
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
    quote! {
        #item

        #message_enum

        #assert_struct

        impl ::glomers::Handlers for #self_ty {
            const TYPES: &'static [&'static str] = &[#(#types),*];

            #dispatch

            fn periodic() -> ::std::vec::Vec<::glomers::Periodic<Self>> {
                ::std::vec![#(#periodic),*]
            }

            #on_init
        }
    }
}

/// `enum <Name>Msg`, one variant per handled type, with the `type` tag.
fn message_enum(node: &NodeImpl, handlers: &[&Method]) -> TokenStream {
    if handlers.is_empty() {
        return TokenStream::new();
    }
    let enum_name = enum_name(node);
    let doc = format!(
        "The messages `{}` handles, one variant per `#[handle]`; each serializes with its `type` tag, ready for `Ctx::send` or `Ctx::rpc`.",
        node.name
    );
    let variants = handlers.iter().map(|method| {
        let kind = method.handled().expect("handlers only");
        let variant = variant_name(&kind.value()).expect("validated");
        let fields = method.fields().map(|(name, ty)| quote!(#name: #ty));
        let doc = format!("`{}`, handled by `{}`.", kind.value(), method.ident);
        quote! {
            #[doc = #doc]
            #[serde(rename = #kind)]
            #variant { #(#fields),* }
        }
    });
    quote! {
        #[doc = #doc]
        #[derive(::glomers::__private::serde::Serialize)]
        #[serde(crate = "::glomers::__private::serde", tag = "type")]
        enum #enum_name {
            #(#variants),*
        }
    }
}

fn enum_name(node: &NodeImpl) -> Ident {
    format_ident!("{}Msg", node.name)
}

fn dispatch(handlers: &[&Method]) -> TokenStream {
    let arms = handlers.iter().map(|method| {
        let kind = method.handled().expect("handlers only");
        let fields = method.fields().map(|(name, ty)| quote!(#name: #ty));
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
        let reply =
            (!answers_itself).then(|| quote!(let __responder = __request.responder(__ctx);));
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
        quote! {
            #kind => {
                #[derive(::glomers::__private::serde::Deserialize)]
                #[serde(crate = "::glomers::__private::serde")]
                struct __Fields { #(#fields),* }
                let __Fields { #(#bindings),* } = __request.parse()?;
                #reply
                #call
                ::std::result::Result::Ok(())
            }
        }
    });
    quote! {
        #[allow(unused_variables)]
        fn dispatch(
            __state: &::glomers::Shared<Self>,
            __ctx: &::glomers::Ctx,
            __request: ::glomers::Request<'_>,
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
        ::glomers::Periodic {
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
            __state: &::glomers::Shared<Self>,
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
        ParamKind::Src => quote!(__src),
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
        .any(|p| matches!(p.kind, ParamKind::Src));
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
            (Reply::Respond, Output::Result(_)) => quote! {
                __responder.result(#output);
            },
            (Reply::Respond, Output::Value(ty)) => quote_spanned! {ty.span()=>
                let __out = #output;
                ::glomers::Responder::ok(__responder, __out);
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
    let node = takes_node.then(|| quote!(let __node = ::glomers::Node::__new(__state);));
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
