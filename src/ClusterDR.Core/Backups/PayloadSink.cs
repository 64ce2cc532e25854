using System;
using System.IO;

namespace ClusterDR.Backups
{
    /// <summary>
    /// What <see cref="BackupArchiveWriter.AddStreamedPayload"/> hands its producer. Call
    /// <see cref="DeclareLength"/> before the first write when the size is known (e.g. from the first
    /// message of a snapshot stream) and the bytes go straight into the archive; otherwise they are
    /// staged. Either way they are counted and hashed; a declared size must be met exactly.
    /// </summary>
    public sealed class PayloadSink : WriteOnlyStream
    {
        private readonly BackupArchiveWriter _writer;
        private readonly string _path;
        private readonly int _mode;
        private HashingStream _hashing;
        private FileStream _staged;
        private long _declared = -1;
        private bool _holdsArchive;

        internal PayloadSink(BackupArchiveWriter writer, string path, int mode)
        {
            _writer = writer; _path = path; _mode = mode;
        }

        public long BytesWritten => _hashing?.BytesWritten ?? 0;

        /// <summary>Whether <see cref="CurrentHash"/> can be used: a checker can then share this payload's hash pass.</summary>
        public bool CanPeekHash => HashingStream.CanPeek;

        /// <summary>SHA-256 of the bytes written so far (hashing goes on).</summary>
        public byte[] CurrentHash()
        {
            if (_hashing != null) return _hashing.CurrentHash();
            using (var sha = System.Security.Cryptography.SHA256.Create()) return sha.ComputeHash(new byte[0]);
        }

        /// <summary>Announces the exact size: the payload then streams into the archive itself.</summary>
        public void DeclareLength(long length)
        {
            if (length < 0) throw new ArgumentOutOfRangeException(nameof(length));
            if (_hashing != null) throw new InvalidOperationException("DeclareLength must come before the first write.");
            var entry = _writer.BeginStreamedEntry(_path, length, _mode);
            // Only once the entry is ours: a failed BeginStreamedEntry has released the archive itself.
            _holdsArchive = true;
            _hashing = new HashingStream(entry, leaveOpen: true);
            _declared = length;
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            if (_hashing == null)
            {
                _staged = _writer.CreateStagingFile(_path);
                _hashing = new HashingStream(_staged, leaveOpen: true);
            }
            if (_declared >= 0 && _hashing.BytesWritten + count > _declared)
                throw SizeMismatch($"more than the {_declared} bytes its source announced");
            _hashing.Write(buffer, offset, count);
        }

        internal ManifestFile Finish()
        {
            if (_hashing == null)
            {
                _staged = _writer.CreateStagingFile(_path);
                _hashing = new HashingStream(_staged, leaveOpen: true);
            }
            if (_declared >= 0 && _hashing.BytesWritten != _declared)
                throw SizeMismatch($"{_hashing.BytesWritten} bytes where its source announced {_declared}");
            var entry = new ManifestFile { Path = _path, Size = _hashing.BytesWritten, Sha256 = _hashing.HashHex() };
            if (_holdsArchive)
            {
                _writer.EndStreamedEntry(_path, failed: false, entry);
                _holdsArchive = false;
            }
            else
            {
                _staged.Flush();
            }
            return entry;
        }

        internal void Abort()
        {
            if (_holdsArchive) _writer.EndStreamedEntry(_path, failed: true);
            _holdsArchive = false;
        }

        private ClusterDrException SizeMismatch(string what) =>
            new ClusterDrException(ErrorIds.PayloadSizeMismatch, ErrorKind.InvalidData, $"The payload '{_path}' came with {what}; the backup is not written.", _path);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _hashing?.Dispose();
                _staged?.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
