//! [`Paged`]: a stream that fetches a page at a time, for `SCAN` and search cursors.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use crate::error::Result;

/// A page of items and the cursor of the next page (`None` after the last).
pub(crate) type PageFuture<'a, T, C> =
    Pin<Box<dyn Future<Output = Result<(Vec<Result<T>>, Option<C>)>> + Send + 'a>>;

/// Yields the items of each page, fetching the next page only when the current one is used
/// up. A failed page is the stream's last item.
pub struct Paged<'a, T, C> {
    fetch: Box<dyn Fn(C) -> PageFuture<'a, T, C> + Send + Sync + 'a>,
    next: Option<C>,
    ready: VecDeque<Result<T>>,
    pending: Option<PageFuture<'a, T, C>>,
}

impl<'a, T, C> Paged<'a, T, C> {
    /// A stream whose first page is fetched with `first`.
    pub(crate) fn new(
        first: C,
        fetch: impl Fn(C) -> PageFuture<'a, T, C> + Send + Sync + 'a,
    ) -> Self {
        Paged {
            fetch: Box::new(fetch),
            next: Some(first),
            ready: VecDeque::new(),
            pending: None,
        }
    }
}

// Nothing is pinned structurally: the pending future is boxed.
impl<T, C> Unpin for Paged<'_, T, C> {}

impl<T, C> Stream for Paged<'_, T, C> {
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Poll::Ready(Some(item));
            }
            if self.pending.is_none() {
                let Some(cursor) = self.next.take() else {
                    return Poll::Ready(None);
                };
                self.pending = Some((self.fetch)(cursor));
            }
            let page = self.pending.as_mut().expect("set above");
            let outcome = std::task::ready!(page.as_mut().poll(cx));
            self.pending = None;
            match outcome {
                Err(e) => return Poll::Ready(Some(Err(e))),
                Ok((items, next)) => {
                    self.next = next;
                    self.ready.extend(items);
                }
            }
        }
    }
}

impl<T, C> std::fmt::Debug for Paged<'_, T, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Paged")
            .field("buffered", &self.ready.len())
            .field("done", &(self.next.is_none() && self.pending.is_none()))
            .finish()
    }
}
