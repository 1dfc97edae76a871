//! Streaming an input into the bucket: a multipart upload of 8 MiB parts, each sent while the
//! next is received, so a 5 GB body is never held whole (two parts at most); an input under
//! 8 MiB is one `PutObject`.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use bytes::Bytes;
use futures::Stream;

use super::{BucketError, BucketStore};
use crate::error::error_chain;
use crate::jobs::pieces::{CutOff, Pieces};

/// Bytes sent per upload part (S3 wants at least 5 MiB but for the last).
const UPLOAD_PART: usize = 8 << 20;

/// Why an upload did not end in a stored input.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error(transparent)]
    CutOff(#[from] CutOff),
    #[error(transparent)]
    Bucket(#[from] BucketError),
}

impl BucketStore {
    /// Streams `body` into the object `key`; answers its length. Nothing is left behind when
    /// the body is cut off or a call fails.
    pub async fn upload<E>(
        &self,
        key: &str,
        body: impl Stream<Item = Result<Bytes, E>> + Unpin,
    ) -> Result<u64, UploadError>
    where
        E: std::error::Error + 'static,
    {
        let mut multipart = None;
        let result = self.upload_parts(key, body, &mut multipart).await;
        if let (Err(_), Some((id, _))) = (&result, multipart) {
            let aborted = self
                .s3
                .abort_multipart_upload()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(id)
                .send()
                .await;
            if let Err(err) = aborted {
                tracing::warn!(key, error = %error_chain(&err), "could not abort an upload");
            }
        }
        result
    }

    /// Receives each piece while the one before it is sent: the body and S3 are both a
    /// network away, and one after the other each would wait for the other.
    async fn upload_parts<E>(
        &self,
        key: &str,
        body: impl Stream<Item = Result<Bytes, E>> + Unpin,
        multipart: &mut Option<(String, Vec<CompletedPart>)>,
    ) -> Result<u64, UploadError>
    where
        E: std::error::Error + 'static,
    {
        let mut pieces = Pieces::new(body, UPLOAD_PART);
        let mut piece = pieces.next().await?.unwrap_or_default();
        if piece.len() < UPLOAD_PART {
            // Shorter than a part: the whole input, in one call.
            self.put(key, piece).await?;
            return Ok(pieces.bytes());
        }
        let id = self.start_upload(key).await?;
        let (_, parts) = multipart.insert((id.clone(), Vec::new()));
        loop {
            let number = i32::try_from(parts.len() + 1).unwrap_or(i32::MAX);
            let (sent, next) =
                futures::join!(self.upload_part(key, &id, number, piece), pieces.next());
            parts.push(sent?);
            match next? {
                Some(more) => piece = more,
                None => break,
            }
        }
        if let Some((id, parts)) = multipart.take() {
            self.complete(key, &id, parts).await?;
        }
        Ok(pieces.bytes())
    }

    async fn start_upload(&self, key: &str) -> Result<String, BucketError> {
        let out = self
            .s3
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(self.sdk("start an upload to", key))?;
        Ok(out.upload_id.unwrap_or_default())
    }

    async fn upload_part(
        &self,
        key: &str,
        id: &str,
        number: i32,
        part: Bytes,
    ) -> Result<CompletedPart, BucketError> {
        let out = self
            .s3
            .upload_part()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(id)
            .part_number(number)
            .body(ByteStream::from(part))
            .send()
            .await
            .map_err(self.sdk("upload a part of", key))?;
        Ok(CompletedPart::builder()
            .part_number(number)
            .set_e_tag(out.e_tag)
            .build())
    }

    async fn complete(
        &self,
        key: &str,
        id: &str,
        parts: Vec<CompletedPart>,
    ) -> Result<(), BucketError> {
        self.s3
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
            .map_err(self.sdk("finish the upload of", key))?;
        Ok(())
    }
}
