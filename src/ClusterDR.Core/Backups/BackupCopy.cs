using System.IO;
using ClusterDR.Safety;
using ClusterDR.Stores;

namespace ClusterDR.Backups
{
    /// <summary>
    /// Copy-ClusterBackup's engine: one streamed pass from any store to any other. Every byte read is written to the
    /// destination and verified on the way (the same pass as Test-ClusterBackup); the copy is committed only when the
    /// whole archive verified, so a damaged source, a cut connection or a full destination leaves nothing listed.
    /// </summary>
    public static class BackupCopy
    {
        public static ClusterBackup Copy(BackupLocation source, BackupStore destination, string folder, IOperationContext ctx)
        {
            var store = destination ?? LocalStore.Instance;
            string key = store.Combine(folder, source.Name);
            var target = new BackupLocation(destination, key);
            if (store.Stat(key, default) != null)
                throw new ClusterDrException(ErrorIds.BackupExists, ErrorKind.ResourceExists, $"A backup named '{target.Display}' already exists; it is never overwritten.", target.Display, surfaceAsIs: true);
            using (var upload = store.BeginUpload(key, CancellationScope.Effective(ctx.Cancellation)))
            {
                TeeReadStream tee = null;
                ClusterBackup verified;
                long length;
                try
                {
                    verified = BackupVerifier.Verify(source, ctx, null, raw => tee = new TeeReadStream(raw, upload.Stream), null, out var index);
                    index?.Dispose();
                    tee.Drain(); // the archive's last frames (its trailer), which verification need not decompress
                    length = tee.Count;
                }
                finally { tee?.CloseSource(); }
                upload.Commit(CancellationScope.Effective(ctx.Cancellation));
                return new ClusterBackup(target, verified.Manifest, length)
                {
                    Verified = true,
                    Encrypted = verified.Encrypted,
                    VerifiedUtc = verified.VerifiedUtc,
                    Verification = verified.Verification,
                };
            }
        }

        /// <summary>Reads through, writing every byte read to a second stream.</summary>
        private sealed class TeeReadStream : ReadOnlyStream
        {
            private readonly Stream _source, _copy;
            public TeeReadStream(Stream source, Stream copy) { _source = source; _copy = copy; }
            public long Count { get; private set; }

            public override int Read(byte[] buffer, int offset, int count)
            {
                int n = _source.Read(buffer, offset, count);
                if (n > 0)
                {
                    _copy.Write(buffer, offset, n);
                    Count += n;
                }
                return n;
            }

            public void Drain()
            {
                var buf = new byte[1 << 16];
                while (Read(buf, 0, buf.Length) > 0) { }
            }

            /// <summary>The reader disposes the tee when it is done; the source stays open for <see cref="Drain"/> until this.</summary>
            public void CloseSource() => _source.Dispose();
        }
    }
}
