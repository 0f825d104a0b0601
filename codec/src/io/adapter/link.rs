//! The adapters' write path: the frames the connection owes, messages and pieces, each
//! written as its [`Plan`] says; a write that fails or times out ends the connection.

use super::*;

#[bisync]
impl<S, M> Shared<'_, S, M>
where
    S: Write,
    M: MaskKeys,
{
    /// Reports what happened to the transport since the last call: a write that failed
    /// while an event was handed out, or one that never finished (its future was
    /// dropped: a frame may be cut short, which ends the connection).
    pub(super) fn check_transport(&mut self) -> Result<(), Error<S::Error>> {
        self.out.cut_short();
        match self.write_error.take() {
            Some(e) => Err(Error::Write(e)),
            None => Ok(()),
        }
    }

    /// The peer broke the protocol: tell it why, with the right close code.
    pub(super) async fn fail(&mut self, e: crate::ProtocolError) -> Error<S::Error> {
        self.flush_owed_or_keep().await;
        Error::Protocol(e)
    }

    /// Sends whatever the connection owes the peer (pong, close reply, failure close).
    pub(super) async fn flush_owed(&mut self) -> Result<(), Error<S::Error>> {
        while let Some(mut plan) = self.out.owed() {
            self.write(&mut plan).await?;
        }
        Ok(())
    }

    /// [`flush_owed`](Self::flush_owed) while an event is handed out: a failed write is
    /// reported by the next call.
    pub(super) async fn flush_owed_or_keep(&mut self) {
        if let Err(Error::Write(e)) = self.flush_owed().await {
            self.write_error = Some(e);
        }
    }

    pub(super) async fn send(&mut self, message: Message<'_>) -> Result<(), Error<S::Error>> {
        self.check_transport()?;
        self.flush_owed().await?;
        let mut plan = self.out.message(message)?;
        self.write(&mut plan).await
    }

    pub(super) async fn send_piece(&mut self, piece: Piece<'_>) -> Result<(), Error<S::Error>> {
        self.check_transport()?;
        self.flush_owed().await?;
        let mut plan = self.out.piece(piece)?;
        self.write(&mut plan).await
    }

    /// Writes what `plan` says, flushing after each write. A write that fails or times
    /// out may leave part of a frame on the wire, so it ends the connection.
    pub(super) async fn write(&mut self, plan: &mut Plan<'_>) -> Result<(), Error<S::Error>> {
        while let Some((head, rest)) = self.out.next(plan)? {
            let result = write_two_flush(&mut self.stream, head, rest).await;
            self.out.writing = false;
            if let Err(e) = result {
                self.out.conn.abort();
                return Err(Error::Write(e));
            }
        }
        Ok(())
    }
}

/// Writes `first`, then `second` (if any), and flushes.
#[bisync]
pub(super) async fn write_two_flush<S: Write>(
    stream: &mut S,
    first: &[u8],
    second: &[u8],
) -> Result<(), S::Error> {
    stream.write_all(first).await?;
    if !second.is_empty() {
        stream.write_all(second).await?;
    }
    stream.flush().await
}
