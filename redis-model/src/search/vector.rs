//! Vector search: `KNN` and `VECTOR_RANGE` queries, with an optional pre-filter.

use super::expr::{Expr, SearchText};
use super::field::VectorField;
use super::query::{decode_keys, decode_search, Fold, Order, Rows, SortKey};
use super::schema::VectorElement;
use crate::commands::{cmd, send_frames};
use crate::error::{Error, Result};
use crate::model::{RedisModel, Repository};

/// The attribute the server writes each hit's distance to.
const DISTANCE: &str = "__distance";

/// A vector query; run it with [`all`](VectorQuery::all).
#[must_use = "a query does nothing until it is run"]
pub struct VectorQuery<'r, M: RedisModel> {
    repo: &'r Repository<M>,
    field: VectorField<M>,
    blob: Result<Vec<u8>>,
    kind: Kind,
    filter: Option<Expr<M>>,
}

enum Kind {
    Knn(usize),
    Range(f64),
}

impl<'r, M: RedisModel> VectorQuery<'r, M> {
    pub(crate) fn knn(
        repo: &'r Repository<M>,
        field: VectorField<M>,
        vector: &[f32],
        k: usize,
    ) -> Self {
        VectorQuery {
            repo,
            blob: blob(&field, vector),
            field,
            kind: Kind::Knn(k),
            filter: None,
        }
    }

    pub(crate) fn range(
        repo: &'r Repository<M>,
        field: VectorField<M>,
        vector: &[f32],
        radius: f64,
    ) -> Self {
        VectorQuery {
            repo,
            blob: blob(&field, vector),
            field,
            kind: Kind::Range(radius),
            filter: None,
        }
    }

    /// Only documents matching `filter` are candidates (a pre-filter: `k` hits come back if `k`
    /// documents match it).
    pub fn filter(mut self, filter: Expr<M>) -> Self {
        self.filter = Some(filter);
        self
    }

    /// The hits, nearest first, with their distances (squared Euclidean for L2, as the server
    /// computes them). On a cluster every master's index is asked, and the nearest of all their
    /// hits kept: the global top `k`.
    pub async fn all(self) -> Result<Vec<(M, f32)>> {
        let blob = self.blob?;
        let filter = match &self.filter {
            Some(f) => match f.to_query()? {
                Some(text) => text,
                // No document can be a candidate.
                None => return Ok(Vec::new()),
            },
            None => SearchText {
                query: "*".to_owned(),
                params: Vec::new(),
            },
        };
        let name = self.field.name;
        let (query, limit) = match self.kind {
            Kind::Knn(k) => (
                format!(
                    "({})=>[KNN {k} @{name} $vector AS {DISTANCE}]",
                    filter.query
                ),
                k,
            ),
            Kind::Range(radius) => {
                let range = format!(
                    "@{name}:[VECTOR_RANGE {radius:?} $vector]=>{{$YIELD_DISTANCE_AS: {DISTANCE}}}"
                );
                let q = if self.filter.is_some() {
                    format!("({range} {})", filter.query)
                } else {
                    range
                };
                // The server caps a page at 10,000 matches unless configured otherwise.
                (q, 10_000)
            }
        };
        // On a cluster, where an index reads no document outside its name's slot, each shard
        // answers keys and distances, and the documents are read by key.
        let by_keys = self.repo.search_by_keys();
        let searches = self
            .repo
            .search_indexes()
            .iter()
            .map(|index| {
                let mut c = cmd("FT.SEARCH").key(index).arg(&query);
                if by_keys {
                    c = c.arg("NOCONTENT").arg("WITHSORTKEYS");
                }
                filter
                    .params_to(c, &[("vector", &blob[..])])
                    .arg("SORTBY")
                    .arg(DISTANCE)
                    .arg("LIMIT")
                    .arg(0)
                    .arg(limit)
                    .arg("DIALECT")
                    .arg(2)
            })
            .collect();
        let replies = send_frames(self.repo.client(), searches).await?;
        if by_keys {
            let mut nearest = Vec::new();
            for reply in replies {
                let (_, keys) = decode_keys(
                    reply?.parse()?,
                    Rows::Sorted(DISTANCE, Order::Asc),
                    Fold::None,
                )?;
                nearest.extend(keys.into_iter().filter_map(|(sort, key)| match sort {
                    SortKey::Number(d) => Some((d as f32, key)),
                    _ => None,
                }));
            }
            nearest.sort_by(|a, b| a.0.total_cmp(&b.0));
            nearest.truncate(limit);
            let keys: Vec<String> = nearest.iter().map(|(_, k)| k.clone()).collect();
            let docs = self.repo.get_keys(&keys).await?;
            // A document deleted since the search is left out.
            return Ok(docs
                .into_iter()
                .zip(nearest)
                .filter_map(|(doc, (d, _))| doc.map(|m| (m, d)))
                .collect());
        }
        let prefix = self.repo.key_prefix();
        let mut hits = Vec::new();
        for reply in replies {
            let shard = decode_search::<M, _>(&reply?, &prefix, Some(DISTANCE), |m, d| {
                let d = d.ok_or_else(|| Error::protocol("vector hit without its distance"))?;
                Ok((m, d as f32))
            })?;
            hits.extend(shard.items);
        }
        // Each shard's hits come nearest first; one shard's need no merging.
        hits.sort_by(|a, b| a.1.total_cmp(&b.1));
        hits.truncate(limit);
        Ok(hits)
    }
}

/// The query vector as the index stores it, refused before anything is sent when its
/// dimension is wrong.
fn blob<M>(field: &VectorField<M>, vector: &[f32]) -> Result<Vec<u8>> {
    if vector.len() != field.dim {
        return Err(Error::VectorDimension {
            field: field.name.to_owned(),
            expected: field.dim,
            got: vector.len(),
        });
    }
    Ok(match field.element {
        VectorElement::Float32 => vector.iter().flat_map(|x| x.to_le_bytes()).collect(),
        VectorElement::Float64 => vector
            .iter()
            .flat_map(|x| f64::from(*x).to_le_bytes())
            .collect(),
    })
}
