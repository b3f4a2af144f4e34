//! The typed model of a `#[maelstrom_node]` impl block, read off syn's tree.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{FnArg, Ident, ImplItem, ItemImpl, Pat, ReturnType, Type};

use crate::attr::{take_roles, Role, RoleAttr};
use crate::errors::Errors;

/// The impl block, with the helper attributes taken off its methods.
pub struct NodeImpl {
    pub item: ItemImpl,
    /// The struct's name (the last segment of the impl's self type).
    pub name: Ident,
    pub methods: Vec<Method>,
}

/// A method that carries one or more role attributes.
pub struct Method {
    pub ident: Ident,
    /// Every role attribute on the method (validation wants exactly one).
    pub roles: Vec<RoleAttr>,
    pub asyncness: Option<Span>,
    pub generics: Option<Span>,
    pub receiver: Receiver,
    /// The receiver as written, to point errors at.
    pub receiver_tokens: Option<TokenStream>,
    pub params: Vec<Param>,
    pub output: Output,
}

/// How a method takes `self`.
pub enum Receiver {
    None,
    Shared,
    Exclusive,
    /// `self` or `mut self`: not allowed.
    ByValue,
    /// `self: Box<Self>` and the like: not allowed.
    Typed,
}

/// One parameter after the receiver.
pub struct Param {
    pub kind: ParamKind,
    /// The whole `pattern: Type`, to point errors at.
    pub tokens: TokenStream,
    /// The type as written.
    pub ty: Box<Type>,
}

/// What a parameter stands for, told by its type.
pub enum ParamKind {
    /// `&Ctx` (`by_ref`) or `Ctx`.
    Ctx { by_ref: bool },
    /// `&mut Ctx`: not allowed.
    CtxMut,
    /// `Src` (or `&Src`, `by_ref`): the sender's id.
    Src { by_ref: bool },
    /// `Node<Self>`: the async handle on the state.
    Node,
    /// `Responder<T>`: the handle that answers the request, now or later.
    Responder,
    /// A body field named by the parameter.
    Field { name: Option<Ident>, ty: Box<Type> },
}

/// A method's return type, as far as the reply is concerned.
pub enum Output {
    Unit,
    /// `Result<..>`: `Ok` replies, `Err` answers an error.
    Result(Box<Type>),
    Value(Box<Type>),
}

impl Output {
    /// `T` and `E` of a `Result<T, E>` written with both arguments.
    pub fn result_types(&self) -> Option<(&Type, &Type)> {
        let Output::Result(ty) = self else {
            return None;
        };
        let Type::Path(path) = &**ty else {
            return None;
        };
        let segment = path.path.segments.last()?;
        let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
            return None;
        };
        let mut types = args.args.iter().filter_map(|arg| match arg {
            syn::GenericArgument::Type(ty) => Some(ty),
            _ => None,
        });
        match (types.next(), types.next(), types.next()) {
            (Some(ok), Some(err), None) => Some((ok, err)),
            _ => None,
        }
    }
}

/// The single type argument of a path type such as `Responder<T>`.
pub fn type_argument(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else {
        return None;
    };
    let syn::PathArguments::AngleBracketed(args) = &path.path.segments.last()?.arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(ty) if args.args.len() == 1 => Some(ty),
        _ => None,
    }
}

impl Method {
    /// The role, when there is exactly one.
    pub fn role(&self) -> Option<&Role> {
        match self.roles.as_slice() {
            [only] => Some(&only.role),
            _ => None,
        }
    }

    /// The `type` this method handles, if it is a handler.
    pub fn handled(&self) -> Option<&syn::LitStr> {
        match self.role() {
            Some(Role::Handle { kind, .. }) => Some(kind),
            _ => None,
        }
    }

    /// Whether the method takes a `Responder<T>` and so answers through it.
    pub fn takes_responder(&self) -> bool {
        self.params
            .iter()
            .any(|param| matches!(param.kind, ParamKind::Responder))
    }

    /// The body fields the method takes, with their names and types.
    pub fn fields(&self) -> impl Iterator<Item = (&Ident, &Type)> {
        self.params.iter().filter_map(|param| match &param.kind {
            ParamKind::Field {
                name: Some(name),
                ty,
            } => Some((name, &**ty)),
            _ => None,
        })
    }
}

/// Reads the impl block. Errors that stop the model from being built (the
/// self type is not a plain name) end here; the rest are left to `valid`.
pub fn parse(mut item: ItemImpl, errors: &mut Errors) -> Option<NodeImpl> {
    let name = match &*item.self_ty {
        Type::Path(path) if path.qself.is_none() => path
            .path
            .segments
            .last()
            .map(|segment| segment.ident.clone()),
        _ => None,
    };
    let Some(name) = name else {
        errors.at(
            &item.self_ty,
            "`#[maelstrom_node]` needs an impl of a struct by its name, such as `impl Echo`",
        );
        return None;
    };
    let mut methods = Vec::new();
    for impl_item in &mut item.items {
        match impl_item {
            ImplItem::Fn(function) => {
                let roles = take_roles(&mut function.attrs, errors);
                if !roles.is_empty() {
                    methods.push(method(&function.sig, roles));
                }
            }
            ImplItem::Const(item) => reject_roles(&mut item.attrs, errors),
            ImplItem::Type(item) => reject_roles(&mut item.attrs, errors),
            ImplItem::Macro(item) => reject_roles(&mut item.attrs, errors),
            _ => {}
        }
    }
    Some(NodeImpl {
        item,
        name,
        methods,
    })
}

/// Role attributes belong on methods only.
fn reject_roles(attrs: &mut Vec<syn::Attribute>, errors: &mut Errors) {
    for role in take_roles(attrs, errors) {
        errors.at_span(
            role.span,
            "this attribute goes on a method (`fn`) of the impl block",
        );
    }
}

fn method(sig: &syn::Signature, roles: Vec<RoleAttr>) -> Method {
    let mut receiver = Receiver::None;
    let mut receiver_tokens = None;
    let mut params = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(recv) => {
                receiver_tokens = Some(recv.to_token_stream());
                receiver = if recv.colon_token.is_some() {
                    Receiver::Typed
                } else if recv.reference.is_none() {
                    Receiver::ByValue
                } else if recv.mutability.is_some() {
                    Receiver::Exclusive
                } else {
                    Receiver::Shared
                };
            }
            FnArg::Typed(typed) => params.push(Param {
                kind: param_kind(&typed.pat, &typed.ty),
                tokens: typed.to_token_stream(),
                ty: typed.ty.clone(),
            }),
        }
    }
    let output = match &sig.output {
        ReturnType::Default => Output::Unit,
        ReturnType::Type(_, ty) => match &**ty {
            Type::Tuple(tuple) if tuple.elems.is_empty() => Output::Unit,
            Type::Path(path) if last_ident_is(path, "Result") => Output::Result(ty.clone()),
            _ => Output::Value(ty.clone()),
        },
    };
    Method {
        ident: sig.ident.clone(),
        roles,
        asyncness: sig.asyncness.map(|token| token.span),
        generics: (!sig.generics.params.is_empty()).then(|| sig.generics.span()),
        receiver,
        receiver_tokens,
        params,
        output,
    }
}

fn param_kind(pat: &Pat, ty: &Type) -> ParamKind {
    let (by_ref, mutable, inner) = match ty {
        Type::Reference(reference) => (true, reference.mutability.is_some(), &*reference.elem),
        other => (false, false, other),
    };
    if let Type::Path(path) = inner {
        let plain = path
            .path
            .segments
            .last()
            .is_some_and(|s| s.arguments.is_empty());
        if last_ident_is(path, "Ctx") && plain {
            return if mutable {
                ParamKind::CtxMut
            } else {
                ParamKind::Ctx { by_ref }
            };
        }
        if !mutable && last_ident_is(path, "Src") && plain {
            return ParamKind::Src { by_ref };
        }
        if !by_ref && last_ident_is(path, "Node") && !plain {
            return ParamKind::Node;
        }
        if !by_ref && last_ident_is(path, "Responder") {
            return ParamKind::Responder;
        }
    }
    let name = match pat {
        Pat::Ident(ident) if ident.by_ref.is_none() && ident.subpat.is_none() => {
            Some(ident.ident.clone())
        }
        _ => None,
    };
    ParamKind::Field {
        name,
        ty: Box::new(ty.clone()),
    }
}

fn last_ident_is(path: &syn::TypePath, name: &str) -> bool {
    path.qself.is_none() && path.path.segments.last().is_some_and(|s| s.ident == name)
}
