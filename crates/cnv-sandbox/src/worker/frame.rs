//! The frames between a command line and its worker process: a little-endian `u32` length,
//! then that many bytes, over a unix stream socket. A reader is told the most it accepts,
//! so a frame over it is refused from its length alone, before it is read.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Instant;

/// Writes one frame.
pub(crate) fn write(socket: &mut UnixStream, payload: &[u8]) -> io::Result<()> {
    let len = u32::try_from(payload.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a frame over 4 GiB"))?;
    socket.write_all(&len.to_le_bytes())?;
    socket.write_all(payload)?;
    socket.flush()
}

/// Why a frame was not read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The deadline passed first.
    TimedOut,
    /// The other end closed the socket (or it was shut down) before a whole frame came.
    Closed,
    /// The frame announced more bytes than the reader accepts.
    TooLarge {
        /// The length it announced.
        announced: u64,
    },
    /// The socket failed.
    Io(io::Error),
}

/// Reads one frame of at most `limit` bytes, waiting at most until `deadline`.
pub(crate) fn read(
    socket: &mut UnixStream,
    limit: u64,
    deadline: Option<Instant>,
) -> Result<Vec<u8>, ReadError> {
    let mut len = [0u8; 4];
    read_exact(socket, &mut len, deadline)?;
    let announced = u64::from(u32::from_le_bytes(len));
    if announced > limit {
        return Err(ReadError::TooLarge { announced });
    }
    let size = usize::try_from(announced).map_err(|_| ReadError::TooLarge { announced })?;
    let mut payload = vec![0u8; size];
    read_exact(socket, &mut payload, deadline)?;
    Ok(payload)
}

fn read_exact(
    socket: &mut UnixStream,
    mut buf: &mut [u8],
    deadline: Option<Instant>,
) -> Result<(), ReadError> {
    while !buf.is_empty() {
        let timeout = match deadline {
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(ReadError::TimedOut);
                }
                Some(left)
            }
            None => None,
        };
        socket.set_read_timeout(timeout).map_err(ReadError::Io)?;
        match socket.read(buf) {
            Ok(0) => return Err(ReadError::Closed),
            Ok(n) => buf = &mut buf[n..],
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Err(ReadError::TimedOut);
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(ReadError::Io(err)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_frame_round_trips_and_a_large_one_is_refused_by_its_length() {
        let (mut a, mut b) = UnixStream::pair().expect("a pair");
        write(&mut a, b"hello").expect("written");
        assert_eq!(read(&mut b, 16, None).expect("read"), b"hello");
        write(&mut a, &[7u8; 64]).expect("written");
        assert!(matches!(
            read(&mut b, 16, None),
            Err(ReadError::TooLarge { announced: 64 })
        ));
    }

    #[test]
    fn a_silent_peer_times_out_and_a_closed_one_is_closed() {
        let (a, mut b) = UnixStream::pair().expect("a pair");
        let soon = Instant::now() + Duration::from_millis(20);
        assert!(matches!(
            read(&mut b, 16, Some(soon)),
            Err(ReadError::TimedOut)
        ));
        drop(a);
        assert!(matches!(read(&mut b, 16, None), Err(ReadError::Closed)));
    }
}
