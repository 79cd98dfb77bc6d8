//! One server: every command goes to it, through the client's shared connections.

use crate::config::Config;
use crate::connection::{Expect, Payload};
use crate::error::Result;
use crate::pipeline::auto::{LaneRequest, Lanes};
use crate::pool::{self, Pool};

pub(crate) struct Standalone {
    lanes: Lanes,
}

impl Standalone {
    pub(crate) async fn new(config: &Config) -> Result<Self> {
        let pool = pool::build(config).await?;
        Ok(Standalone {
            lanes: Lanes::new(
                pool,
                config.addr.to_string(),
                config.pool.multiplexed_connections,
                config.pool.max_lifetime,
            ),
        })
    }

    pub(crate) fn request(&self, payload: Payload, expect: Expect) -> LaneRequest<'_> {
        self.lanes.request(payload, expect)
    }

    pub(crate) fn pool(&self) -> &Pool {
        self.lanes.pool()
    }
}
