//! Kea's control socket: commands such as `config-reload` sent to the
//! running server, which keeps its leases and sockets.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use super::KeaError;

/// How long a command may take before the server counts as not answering.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Kea's answer to a command.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Answer {
    /// 0: success; 1: error; 2: unsupported; 3: empty.
    pub result: i32,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub arguments: Option<serde_json::Value>,
}

/// Sends `command` to the server behind `socket` and returns its answer;
/// an answer with a non-zero result is returned as [`KeaError::Command`].
pub fn command(socket: &Path, command: &str) -> Result<Answer, KeaError> {
    let unreachable = |e| KeaError::Control {
        socket: socket.to_owned(),
        source: e,
    };
    let mut stream = UnixStream::connect(socket).map_err(unreachable)?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .map_err(unreachable)?;
    stream
        .set_write_timeout(Some(TIMEOUT))
        .map_err(unreachable)?;
    let request = json!({ "command": command }).to_string();
    stream.write_all(request.as_bytes()).map_err(unreachable)?;
    let reply = read_reply(&mut stream).map_err(unreachable)?;
    let answer = parse_answer(&reply)?;
    if answer.result == 0 {
        Ok(answer)
    } else {
        Err(KeaError::Command {
            command: command.to_owned(),
            text: answer.text,
        })
    }
}

/// Reads until Kea closes the connection or the bytes form a whole JSON value.
fn read_reply(stream: &mut UnixStream) -> std::io::Result<Vec<u8>> {
    let mut reply = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(reply);
        }
        reply.extend_from_slice(&buf[..n]);
        if serde_json::from_slice::<serde_json::Value>(&reply).is_ok() {
            return Ok(reply);
        }
    }
}

/// Kea answers with one object (or, through the control agent, a list of them).
pub fn parse_answer(reply: &[u8]) -> Result<Answer, KeaError> {
    let value: serde_json::Value = serde_json::from_slice(reply).map_err(KeaError::Json)?;
    let one = match value {
        serde_json::Value::Array(mut list) if !list.is_empty() => list.remove(0),
        other => other,
    };
    serde_json::from_value(one).map_err(KeaError::Json)
}

/// Makes the running server read its configuration file again. Leases are
/// kept; a configuration Kea refuses leaves the old one in force.
pub fn reload(socket: &Path) -> Result<(), KeaError> {
    command(socket, "config-reload").map(|_| ())
}

/// Whether a server answers on `socket`.
pub fn is_running(socket: &Path) -> bool {
    command(socket, "version-get").is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_parse_as_object_or_list() {
        let a = parse_answer(br#"{"result": 0, "text": "Configuration successful."}"#).unwrap();
        assert_eq!(a.result, 0);
        let b = parse_answer(br#"[{"result": 1, "text": "bad"}]"#).unwrap();
        assert_eq!((b.result, b.text.as_str()), (1, "bad"));
    }
}
