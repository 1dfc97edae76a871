//! The macro behind the registry: from one list of `Kind => module::Type` lines it generates
//! the closed enums and one dispatch function per operation, each a `match` with a one-line
//! arm per kind and no wildcard arm (a kind-mismatch arm only where two enums meet).

/// Generates [`Kind`](super::Kind), [`Spec`](super::Spec), [`Detail`](super::Detail),
/// [`Fields`](super::Fields) and the dispatch over them.
macro_rules! kinds {
    ($($kind:ident => $module:ident :: $ty:ident),+ $(,)?) => {
        /// The closed set of resource kinds.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Kind {
            $($kind),+
        }

        impl Kind {
            /// Every kind, in registry order.
            pub const ALL: &'static [Kind] = &[$(Kind::$kind),+];

            /// How people call it: "VPC", "SQS queue" …
            pub fn label(self) -> &'static str {
                match self {
                    $(Self::$kind => <$module::$ty as Resource>::LABEL),+
                }
            }

            /// What `up` waits for once one is made, as the plan says it.
            pub fn waits_for(self) -> Option<&'static str> {
                match self {
                    $(Self::$kind => <$module::$ty as Resource>::WAITS_FOR),+
                }
            }
        }

        /// The desired attributes of a resource, by kind. References are logical ids.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Spec {
            $($kind($module::$ty)),+
        }

        impl Spec {
            pub fn kind(&self) -> Kind {
                match self {
                    $(Self::$kind(_) => Kind::$kind),+
                }
            }

            /// Logical ids it refers to.
            pub fn refs(&self) -> Vec<&ResourceId> {
                match self {
                    $(Self::$kind(r) => r.refs()),+
                }
            }

            /// Logical ids whose replacement forces this resource's.
            pub fn binding(&self) -> Vec<&ResourceId> {
                match self {
                    $(Self::$kind(r) => r.binding()),+
                }
            }

            /// Which tags it carries.
            pub fn tagging(&self) -> Tagging {
                match self {
                    $(Self::$kind(_) => <$module::$ty as Resource>::TAGGING),+
                }
            }

            /// True when a replacement is created before the old resource is deleted.
            pub fn creates_first(&self) -> bool {
                match self {
                    $(Self::$kind(_) => <$module::$ty as Resource>::CREATE_FIRST),+
                }
            }

            /// True when it works some time after it exists.
            pub fn waits(&self) -> bool {
                match self {
                    $(Self::$kind(_) => <$module::$ty as Resource>::WAITS),+
                }
            }

            /// Waits until the resource created or updated as `output` works.
            pub async fn ready(
                &self,
                ctx: &Context,
                id: &ResourceId,
                output: &Output,
                refs: &Outputs,
                wait: Wait<'_>,
            ) -> Result<()> {
                match self {
                    $(Self::$kind(r) => r.ready(ctx, id, output, refs, wait).await),+
                }
            }


            /// The typed difference with what was found, or `None` when the resource found
            /// is of another kind.
            pub fn diff(&self, found: &Detail, refs: &Outputs) -> Option<(Fields, Option<String>)> {
                match (self, found) {
                    $((Self::$kind(r), Detail::$kind(s)) => {
                        let diff = r.diff(s, refs);
                        Some((Fields::$kind(diff.fields), diff.replace))
                    })+
                    // Different kinds under one logical id: replaced, never updated.
                    (_, _) => None,
                }
            }

            pub async fn create(&self, ctx: &Context, new: New<'_>) -> Result<Output> {
                match self {
                    $(Self::$kind(r) => r.create(ctx, new).await),+
                }
            }

            /// Applies typed `fields` to a resource found of the same kind.
            pub async fn update(
                &self,
                ctx: &Context,
                found: &Observed,
                fields: &Fields,
                refs: &Outputs,
                wait: Wait<'_>,
            ) -> Result<Output> {
                match (self, &found.detail, fields) {
                    $((Self::$kind(r), Detail::$kind(s), Fields::$kind(f)) => {
                        r.update(ctx, &found.with(s.clone()), f, refs, wait).await
                    })+
                    (_, _, _) => Err(Error::Unexpected {
                        resource: found.id.clone(),
                        message: format!("cannot update a {} as a {}", found.kind(), self.kind()),
                    }),
                }
            }
        }

        /// What was read of a resource, by kind. Serialized as the kind's name.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Detail {
            $($kind(<$module::$ty as Resource>::State)),+
        }

        impl Detail {
            pub fn kind(&self) -> Kind {
                match self {
                    $(Self::$kind(_) => Kind::$kind),+
                }
            }
        }

        /// The typed field changes of an update, by kind.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Fields {
            $($kind(Vec<<$module::$ty as Resource>::Field>)),+
        }

        impl Fields {
            pub fn describe(&self) -> Vec<FieldChange> {
                match self {
                    $(Self::$kind(f) => f.iter().map(Describe::describe).collect()),+
                }
            }

            pub fn is_empty(&self) -> bool {
                match self {
                    $(Self::$kind(f) => f.is_empty()),+
                }
            }

            /// True when applying them gives the resource new identifiers.
            pub fn new_id(&self) -> bool {
                match self {
                    $(Self::$kind(f) => <$module::$ty as Resource>::new_id_on_update(f)),+
                }
            }
        }

        impl Observed {
            pub fn kind(&self) -> Kind {
                self.detail.kind()
            }

            /// Puts back managed tags.
            pub async fn retag(&self, ctx: &Context, tags: &Tags) -> Result<()> {
                match &self.detail {
                    $(Detail::$kind(s) => $module::$ty::retag(ctx, &self.with(s.clone()), tags).await),+
                }
            }

            /// Deletes it; "already gone" is success.
            pub async fn delete(&self, ctx: &Context, wait: Wait<'_>) -> Result<()> {
                match &self.detail {
                    $(Detail::$kind(s) => $module::$ty::delete(ctx, &self.with(s.clone()), wait).await),+
                }
            }

            /// What is still under way before it works; `None` once it works.
            pub fn unready(&self) -> Option<String> {
                match &self.detail {
                    $(Detail::$kind(s) => $module::$ty::unready(&self.with(s.clone()))),+
                }
            }

            /// What deleting it takes besides the delete, for the plan to say.
            pub fn deleting(&self) -> Option<String> {
                match &self.detail {
                    $(Detail::$kind(s) => $module::$ty::deleting(&self.with(s.clone()))),+
                }
            }

            /// The AWS ids and ARNs it uses (it is deleted before them).
            pub fn uses(&self) -> Vec<String> {
                match &self.detail {
                    $(Detail::$kind(s) => $module::$ty::uses(&self.with(s.clone()))),+
                }
            }

            /// What dependents and users get of it.
            pub fn output(&self) -> Output {
                match &self.detail {
                    $(Detail::$kind(s) => $module::$ty::output(&self.with(s.clone()))),+
                }
            }
        }

        /// The resources of `desired`'s kind that carry its logical id (normally one; none
        /// when it does not exist), found the way `observe_all` finds them.
        pub async fn find(ctx: &Context, desired: &Desired) -> Result<Vec<Observed>> {
            let scope = Scope::new(ctx);
            match &desired.spec {
                $(Spec::$kind(spec) => {
                    let wanted = [Wanted { id: &desired.id, spec }];
                    let found = <$module::$ty as Resource>::observe(&scope, &wanted).await?;
                    Ok(found
                        .into_iter()
                        .filter(|f| f.id == desired.id)
                        .map(|f| f.with(Detail::$kind(f.detail.clone())))
                        .collect())
                })+
            }
        }

        /// Every resource of the stack, all kinds at once: the `desired` ones and anything
        /// else that carries the stack's tag. A kind nothing desired is of, whose read is
        /// denied or not served, is `unread` instead of failing the look.
        pub async fn observe_all(ctx: &Context, desired: &[Desired]) -> Result<Observation> {
            let scope = Scope::new(ctx);
            let scope = &scope;
            let found = futures::future::try_join_all([
                $(Box::pin(async move {
                    let wanted: Vec<Wanted<'_, $module::$ty>> = desired
                        .iter()
                        .filter_map(|d| match &d.spec {
                            Spec::$kind(spec) => Some(Wanted { id: &d.id, spec }),
                            _ => None,
                        })
                        .collect();
                    let found = match <$module::$ty as Resource>::observe(scope, &wanted).await {
                        Ok(found) => found,
                        Err(err) if wanted.is_empty() && err.is_unreadable() => {
                            let reason = err.to_string();
                            return Ok(Err(Unread { kind: Kind::$kind, reason }));
                        }
                        Err(err) if err.is_unreadable() => {
                            return Err(Error::Needed {
                                part: Kind::$kind.part(),
                                what: Kind::$kind.plural(),
                                source: Box::new(err),
                            });
                        }
                        Err(err) => return Err(err),
                    };
                    Ok::<_, Error>(Ok(found.into_iter().map(|f| f.with(Detail::$kind(f.detail.clone()))).collect::<Vec<_>>()))
                }) as std::pin::Pin<Box<dyn std::future::Future<Output = Result<std::result::Result<Vec<Observed>, Unread>>> + Send + '_>>),+
            ])
            .await?;
            let mut observation = Observation::default();
            for kind in found {
                match kind {
                    Ok(found) => observation.found.extend(found),
                    Err(unread) => observation.unread.push(unread),
                }
            }
            Ok(observation)
        }
    };
}

pub(crate) use kinds;
