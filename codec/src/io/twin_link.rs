//! The adapters' write path, the part of [`twin`](super::twin) that puts frames on the
//! wire: messages, fragments and the frames the connection owes (pongs, close replies),
//! each header first and then its payload; a write that fails or times out ends the
//! connection. Expanded into both twins as [`twin`](super::twin) is.

macro_rules! link_adapter {
    ($io:ident, $($async:ident)?, $(.$await:ident)?) => {
impl<S, M> Shared<'_, S, M>
where
    S: Write,
    M: MaskKeys,
{
    /// Reports what happened to the transport since the last call: a write that failed
    /// while an event was handed out, or one that never finished.
    fn check_transport(&mut self) -> Result<(), Error<S::Error>> {
        if core::mem::take(&mut self.writing) {
            // A write's future was dropped before it finished: a frame may be cut short.
            self.conn.abort();
        }
        match self.write_error.take() {
            Some(e) => Err(Error::Write(e)),
            None => Ok(()),
        }
    }

    /// The peer broke the protocol: tell it why, with the right close code.
    $($async)? fn fail(&mut self, e: crate::ProtocolError) -> Error<S::Error> {
        if let Err(Error::Write(e)) = self.flush_owed()$(.$await)? {
            self.write_error = Some(e);
        }
        Error::Protocol(e)
    }

    /// Sends whatever the connection owes the peer (pong, close reply, failure close).
    $($async)? fn flush_owed(&mut self) -> Result<(), Error<S::Error>> {
        // The frames go out as `send`'s do, header first: one write path for all.
        while let Some((opcode, payload)) = self.conn.owed() {
            let key = self.mask.next_key();
            let payload = payload.as_slice();
            // `tx` holds at least MIN_TX_BUF bytes, more than any control frame.
            let Ok(n) = self.conn.encode_message_header(opcode, payload.len(), key, self.tx) else {
                break;
            };
            self.conn.sent_owed(opcode);
            self.write_frame(n, payload, key)$(.$await)??;
        }
        Ok(())
    }

    $($async)? fn send(&mut self, message: Message<'_>) -> Result<(), Error<S::Error>> {
        self.check_transport()?;
        self.flush_owed()$(.$await)??;
        // Checked and built before the match (rather than in its arm, moved out of a
        // `Result`): one copy of the payload instead of two.
        let close_payload = match message {
            Message::Close(close) => Some(close_payload_of(close)?),
            _ => None,
        };
        let (opcode, data) = match message {
            Message::Text(text) => (OpCode::Text, text.as_bytes()),
            Message::Binary(data) => (OpCode::Binary, data),
            Message::Ping(data) => (OpCode::Ping, data),
            Message::Pong(data) => (OpCode::Pong, data),
            Message::Close(_) => {
                (OpCode::Close, close_payload.as_ref().map_or(&[][..], |p| p.as_slice()))
            }
        };
        #[cfg(feature = "deflate-compress")]
        if let (Message::Text(_) | Message::Binary(_), true) = (message, self.compresses()) {
            let kind = if opcode == OpCode::Text { MessageKind::Text } else { MessageKind::Binary };
            return self.send_compressed(kind, data)$(.$await)?;
        }
        #[cfg(feature = "deflate")]
        if let (Message::Text(_) | Message::Binary(_), true) = (message, self.stores()) {
            let kind = if opcode == OpCode::Text { MessageKind::Text } else { MessageKind::Binary };
            return self.send_stored(kind, data, true)$(.$await)?;
        }
        // Every message goes out as fragments do, header first: one write path for all.
        let key = self.mask.next_key();
        let n = self.conn.encode_message_header(opcode, data.len(), key, self.tx)?;
        self.write_frame(n, data, key)$(.$await)?
    }

    $($async)? fn send_piece(&mut self, piece: Piece<'_>) -> Result<(), Error<S::Error>> {
        self.check_transport()?;
        self.flush_owed()$(.$await)??;
        let Piece { kind, data, last } = piece;
        #[cfg(feature = "deflate")]
        if self.stores() {
            return self.send_stored(kind, data, last)$(.$await)?;
        }
        let key = self.mask.next_key();
        let header = crate::PieceHeader { kind, len: data.len() as u64, last };
        let n = self.conn.encode_header(header, key, self.tx)?;
        self.write_frame(n, data, key)$(.$await)?
    }

    /// Writes a data frame whose `n`-byte header is in `tx`, and its payload `data`
    /// (masked with `key` on a client): in one write when the frame fits `tx`.
    $($async)? fn write_frame(
        &mut self,
        n: usize,
        data: &[u8],
        key: [u8; 4],
    ) -> Result<(), Error<S::Error>> {
        let (_, body) = self.tx.split_at_mut(n);
        if let Some(body) = body.get_mut(..data.len()) {
            // The whole frame fits: one write.
            body.copy_from_slice(data);
            if !M::ALL_ZERO && self.conn.role() == Role::Client {
                apply_mask(body, key, 0);
            }
            return self.write_tx(n + data.len(), &[])$(.$await)?;
        }
        self.write_payload(n, data, key, 0, true)$(.$await)?
    }

    /// Writes `tx[..head]` (a header not yet written), then `data`, the part of a frame's
    /// payload that starts `offset` bytes into it: as it is when unmasked (no copy), else
    /// copied through `tx` and masked with `key`. With `all` false, only what fits behind
    /// the header is placed in `tx` (masked) and nothing is written: the caller writes it
    /// with what follows.
    $($async)? fn write_payload(
        &mut self,
        head: usize,
        data: &[u8],
        key: [u8; 4],
        offset: usize,
        all: bool,
    ) -> Result<(), Error<S::Error>> {
        let masked = !M::ALL_ZERO && self.conn.role() == Role::Client;
        if !all {
            let (_, body) = self.tx.split_at_mut(head);
            let body = body.get_mut(..data.len()).unwrap_or(&mut []);
            body.copy_from_slice(data);
            if masked {
                apply_mask(body, key, offset);
            }
            return Ok(());
        }
        if !masked {
            // Unmasked (or masked with a zero key): the payload goes out as it is, without
            // a copy.
            return self.write_tx(head, data)$(.$await)?;
        }
        let mut header = head;
        let mut offset = offset;
        for chunk in data.chunks(self.tx.len() - head) {
            let (_, body) = self.tx.split_at_mut(header);
            let body = body.get_mut(..chunk.len()).unwrap_or(&mut []);
            body.copy_from_slice(chunk);
            apply_mask(body, key, offset);
            offset += chunk.len();
            self.write_tx(header + chunk.len(), &[])$(.$await)??;
            header = 0;
        }
        if data.is_empty() && head > 0 {
            self.write_tx(head, &[])$(.$await)??;
        }
        Ok(())
    }

    /// Writes `tx[..n]` and then `rest`, and flushes. A write that fails or times out
    /// may leave part of a frame on the wire, so it ends the connection.
    $($async)? fn write_tx(&mut self, n: usize, rest: &[u8]) -> Result<(), Error<S::Error>> {
        self.write_span(0, n, rest)$(.$await)?
    }

    /// [`write_tx`](Self::write_tx) of `tx[start..end]`.
    $($async)? fn write_span(
        &mut self,
        start: usize,
        end: usize,
        rest: &[u8],
    ) -> Result<(), Error<S::Error>> {
        self.writing = true;
        let head = self.tx.get(start..end).unwrap_or(&[]);
        let result = write_two_flush(&mut self.stream, head, rest)$(.$await)?;
        self.writing = false;
        if result.is_err() {
            self.conn.abort();
        }
        result.map_err(Error::Write)
    }
}

/// Writes `first`, then `second` (if any), and flushes.
$($async)? fn write_two_flush<S: Write>(
    stream: &mut S,
    first: &[u8],
    second: &[u8],
) -> Result<(), S::Error> {
    stream.write_all(first)$(.$await)??;
    if !second.is_empty() {
        stream.write_all(second)$(.$await)??;
    }
    stream.flush()$(.$await)?
}
    };
}

pub(super) use link_adapter;
