//! The sandbox's SMTP listener: just enough of RFC 5321 (EHLO, AUTH PLAIN
//! and LOGIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT) for the e-mail boards'
//! twins to receive what boardcast sends, with the fault knobs applied at
//! the end of DATA (fail → `451`, throttle → `421`, hang → no answer).

use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use super::{Gate, Sandbox};

/// One message as the listener received it.
#[derive(Debug, Clone, Default)]
pub struct Envelope {
    /// `(username, password)` from AUTH, if the client authenticated.
    pub auth: Option<(String, String)>,
    pub from: String,
    pub to: Vec<String>,
    pub data: Vec<u8>,
}

/// An e-mail board's twin: judges a message; `Err((code, text))` refuses it.
pub type Receiver = fn(&Sandbox, &Envelope) -> Result<String, (u16, String)>;

impl Sandbox {
    /// Serves SMTP until `shutdown`; every message goes to `board`'s `receive`.
    pub async fn serve_smtp(
        self,
        listener: TcpListener,
        board: &'static str,
        receive: Receiver,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) {
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => return,
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let sandbox = self.clone();
                    tokio::spawn(async move {
                        let _ = session(sandbox, stream, board, receive).await;
                    });
                }
            }
        }
    }
}

async fn session(
    sandbox: Sandbox,
    stream: TcpStream,
    board: &'static str,
    receive: Receiver,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let mut envelope = Envelope::default();
    write.write_all(b"220 sandbox ESMTP ready\r\n").await?;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let upper = command.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            "250-sandbox\r\n250-AUTH PLAIN LOGIN\r\n250-8BITMIME\r\n250 SMTPUTF8".into()
        } else if let Some(encoded) = upper
            .starts_with("AUTH PLAIN")
            .then(|| command[10..].trim().to_owned())
        {
            let encoded = if encoded.is_empty() {
                write.write_all(b"334 \r\n").await?;
                line.clear();
                lines.read_line(&mut line).await?;
                line.trim().to_owned()
            } else {
                encoded
            };
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .unwrap_or_default();
            let parts: Vec<String> = decoded
                .split(|b| *b == 0)
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .collect();
            if parts.len() == 3 {
                envelope.auth = Some((parts[1].clone(), parts[2].clone()));
                "235 2.7.0 accepted".into()
            } else {
                "501 5.5.2 malformed AUTH PLAIN".into()
            }
        } else if upper.starts_with("AUTH LOGIN") {
            let mut answers = Vec::new();
            for prompt in ["334 VXNlcm5hbWU6\r\n", "334 UGFzc3dvcmQ6\r\n"] {
                write.write_all(prompt.as_bytes()).await?;
                line.clear();
                lines.read_line(&mut line).await?;
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(line.trim())
                    .unwrap_or_default();
                answers.push(String::from_utf8_lossy(&decoded).into_owned());
            }
            envelope.auth = Some((answers[0].clone(), answers[1].clone()));
            "235 2.7.0 accepted".into()
        } else if upper.starts_with("MAIL FROM:") {
            envelope.from = address(&command[10..]);
            "250 2.1.0 ok".into()
        } else if upper.starts_with("RCPT TO:") {
            envelope.to.push(address(&command[8..]));
            "250 2.1.5 ok".into()
        } else if upper == "DATA" {
            write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
            envelope.data = read_data(&mut lines).await?;
            let gate = sandbox.gate(board);
            let reply = match gate {
                Gate::Refuse(response) if response.status().as_u16() == 429 => {
                    "421 4.7.0 too many messages, try again later".to_owned()
                }
                Gate::Refuse(_) => "451 4.3.0 temporary failure, try again".to_owned(),
                Gate::Proceed { latency, hang } => {
                    let verdict = receive(&sandbox, &envelope);
                    if !latency.is_zero() {
                        tokio::time::sleep(latency).await;
                    }
                    if hang {
                        std::future::pending::<()>().await;
                    }
                    match verdict {
                        Ok(id) => format!("250 2.0.0 ok: queued as {id}"),
                        Err((code, text)) => format!("{code} {text}"),
                    }
                }
            };
            envelope = Envelope {
                auth: envelope.auth.take(),
                ..Envelope::default()
            };
            reply
        } else if upper == "RSET" {
            envelope = Envelope {
                auth: envelope.auth.take(),
                ..Envelope::default()
            };
            "250 2.0.0 ok".into()
        } else if upper == "NOOP" {
            "250 2.0.0 ok".into()
        } else if upper == "QUIT" {
            write.write_all(b"221 2.0.0 bye\r\n").await?;
            return Ok(());
        } else {
            "502 5.5.1 command not implemented".into()
        };
        write.write_all(reply.as_bytes()).await?;
        write.write_all(b"\r\n").await?;
    }
}

fn address(text: &str) -> String {
    let text = text.trim();
    let end = text.find('>').unwrap_or(text.len());
    text.trim_start_matches('<')[..end.saturating_sub(usize::from(text.starts_with('<')))]
        .to_owned()
}

/// Reads DATA up to the lone `.` line, undoing dot-stuffing.
async fn read_data<R: tokio::io::AsyncBufRead + Unpin>(lines: &mut R) -> std::io::Result<Vec<u8>> {
    let mut data = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if lines.read_until(b'\n', &mut line).await? == 0 {
            return Ok(data);
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok(data);
        }
        let content = if line.starts_with(b"..") {
            &line[1..]
        } else {
            &line[..]
        };
        data.extend_from_slice(content);
    }
}
