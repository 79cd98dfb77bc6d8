//! Vector search: `KNN` and `VECTOR_RANGE` queries, with an optional pre-filter.

use super::expr::{Expr, SearchText};
use super::field::VectorField;
use super::query::decode_search;
use super::schema::VectorElement;
use crate::commands::{cmd, send_frame};
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
    /// computes them).
    pub async fn all(self) -> Result<Vec<(M, f32)>> {
        self.repo.searchable()?;
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
        let c = cmd("FT.SEARCH").arg(self.repo.index_name()).arg(query);
        let c = filter
            .params_to(c, &[("vector", &blob[..])])
            .arg("SORTBY")
            .arg(DISTANCE)
            .arg("LIMIT")
            .arg(0)
            .arg(limit)
            .arg("DIALECT")
            .arg(2);
        let reply = send_frame(self.repo.client(), c).await?;
        let prefix = self.repo.key_prefix();
        let hits = decode_search::<M, _>(&reply, &prefix, Some(DISTANCE), |m, d| {
            let d = d.ok_or_else(|| Error::protocol("vector hit without its distance"))?;
            Ok((m, d as f32))
        })?;
        Ok(hits.items)
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
