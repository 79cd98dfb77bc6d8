//! [`Pipeline`]: commands batched by the caller.

use std::borrow::Cow;

use crate::commands::{cmd, Cmd};
use crate::connection::{Expect, Payload};
use crate::error::{Error, Result};
use crate::resp::Value;

/// Commands sent in one write, their replies read together.
///
/// ```no_run
/// # async fn demo(client: redis_model::Client) -> redis_model::Result<()> {
/// use redis_model::prelude::*;
/// let results = client
///     .pipeline(pipe().cmd(cmd("SET").arg("a").arg(1)).cmd(cmd("INCR").arg("a")).cmd(cmd("LPOP").arg("a")))
///     .await?;
/// assert!(results[1].is_ok());
/// assert!(results[2].is_err()); // WRONGTYPE: this one failed, the others did not
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default)]
pub struct Pipeline {
    cmds: Vec<Cmd>,
    atomic: bool,
}

/// An empty [`Pipeline`].
pub fn pipe() -> Pipeline {
    Pipeline::new()
}

impl Pipeline {
    /// An empty pipeline.
    pub fn new() -> Self {
        Pipeline::default()
    }

    /// Wraps the commands in `MULTI`/`EXEC`: all run, with no other client's command between
    /// them, or none does.
    pub fn atomic(mut self) -> Self {
        self.atomic = true;
        self
    }

    /// Appends a command (builder style).
    pub fn cmd(mut self, cmd: Cmd) -> Self {
        self.cmds.push(cmd);
        self
    }

    /// Appends a command.
    pub fn add(&mut self, cmd: Cmd) -> &mut Self {
        self.cmds.push(cmd);
        self
    }

    /// How many commands it holds.
    pub fn len(&self) -> usize {
        self.cmds.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.cmds.is_empty()
    }

    /// The request to send, and what reads its replies back.
    pub(crate) fn into_request(self) -> (Payload, Expect, PipelineDecoder) {
        let names = self.cmds.iter().map(Cmd::name_cow).collect();
        let mut cmds = self.cmds;
        if self.atomic {
            cmds.insert(0, cmd("MULTI"));
            cmds.push(cmd("EXEC"));
        }
        let expect = Expect::Replies(cmds.len());
        (
            Payload::Many(cmds),
            expect,
            PipelineDecoder {
                names,
                atomic: self.atomic,
            },
        )
    }
}

/// Turns a pipeline's replies into one outcome per command.
pub(crate) struct PipelineDecoder {
    names: Vec<Cow<'static, str>>,
    atomic: bool,
}

impl PipelineDecoder {
    pub(crate) fn decode(self, replies: Vec<Value>) -> Result<Vec<Result<Value>>> {
        let each = |replies: Vec<Value>| -> Vec<Result<Value>> {
            replies
                .into_iter()
                .zip(&self.names)
                .map(|(v, name)| v.into_result(name))
                .collect()
        };
        if !self.atomic {
            // An empty pipeline sends nothing and gets nothing.
            return Ok(each(replies));
        }
        // MULTI, one QUEUED (or a queueing error) per command, then EXEC.
        let mut replies = replies.into_iter();
        replies.next().unwrap_or(Value::Nil).into_result("MULTI")?;
        let mut queue_error = None;
        for (reply, name) in replies.by_ref().take(self.names.len()).zip(&self.names) {
            if let Err(e) = reply.into_result(name) {
                queue_error.get_or_insert(e);
            }
        }
        match replies.next() {
            Some(Value::Array(results)) => Ok(each(results)),
            Some(Value::Nil) => Err(Error::TransactionAborted),
            Some(Value::Error(e)) => Err(queue_error.unwrap_or_else(|| e.into_error("EXEC"))),
            Some(other) => Err(crate::resp::mismatch("EXEC results", &other)),
            None => Err(Error::protocol("EXEC reply missing")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resp::ServerError;

    fn simple(s: &'static str) -> Value {
        Value::SimpleString(s.into())
    }

    #[test]
    fn atomic_results_and_aborts() {
        let p = pipe()
            .atomic()
            .cmd(cmd("INCR").arg("a"))
            .cmd(cmd("LPOP").arg("a"));
        let (payload, expect, dec) = p.clone().into_request();
        assert_eq!(expect, Expect::Replies(4));
        assert!(
            matches!(payload, Payload::Many(ref c) if c[0].name() == "MULTI" && c[3].name() == "EXEC")
        );
        let wrongtype = Value::Error(ServerError::new("WRONGTYPE bad".into()));
        let out = dec
            .decode(vec![
                simple("OK"),
                simple("QUEUED"),
                simple("QUEUED"),
                Value::Array(vec![Value::Integer(1), wrongtype]),
            ])
            .unwrap();
        assert_eq!(out[0].as_ref().unwrap(), &Value::Integer(1));
        assert_eq!(
            out[1].as_ref().unwrap_err().server_code(),
            Some("WRONGTYPE")
        );

        let (_, _, dec) = p.clone().into_request();
        let aborted = dec.decode(vec![
            simple("OK"),
            simple("QUEUED"),
            simple("QUEUED"),
            Value::Nil,
        ]);
        assert!(matches!(aborted, Err(Error::TransactionAborted)));

        let (_, _, dec) = p.into_request();
        let unknown = Value::Error(ServerError::new("ERR unknown command".into()));
        let execabort = Value::Error(ServerError::new("EXECABORT discarded".into()));
        let e = dec
            .decode(vec![simple("OK"), simple("QUEUED"), unknown, execabort])
            .unwrap_err();
        assert!(matches!(e, Error::Server { ref command, .. } if command == "LPOP"));
    }
}
