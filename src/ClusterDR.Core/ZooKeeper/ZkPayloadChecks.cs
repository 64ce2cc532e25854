using System;
using System.IO;
using System.Text;
using ClusterDR.Backups;

namespace ClusterDR.ZooKeeper
{
    /// <summary>ZooKeeper snapshots start with "ZKSN", transaction logs with "ZKLG": a file that does not is not what its name says.</summary>
    public sealed class ZkMagicCheck : Stream, IPayloadCheck
    {
        private readonly string _path;
        private readonly string _magic;
        private readonly byte[] _head = new byte[4];
        private int _count;

        public ZkMagicCheck(string path, string magic) { _path = path; _magic = magic; }

        public string Description => "ZooKeeper snapshot/log headers match";
        public Stream Sink => this;

        public override void Write(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(count, _head.Length - _count);
            if (n > 0) { Buffer.BlockCopy(buffer, offset, _head, _count, n); _count += n; }
        }

        public void Complete()
        {
            if (_count < 4 || Encoding.ASCII.GetString(_head) != _magic)
                throw new ClusterDrException(ErrorIds.PayloadHashMismatch, ErrorKind.InvalidData,
                    $"{_path} does not start with ZooKeeper's {_magic} header: it is not a ZooKeeper {(_magic == "ZKSN" ? "snapshot" : "transaction log")}.", _path, surfaceAsIs: true);
        }

        public override void Flush() { }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _count;
        public override long Position { get => _count; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }

    /// <summary>Registers the header check for snapshot.* and log.* files of zookeeper backups.</summary>
    public sealed class ZkPayloadChecks : IPayloadCheckProvider
    {
        public IPayloadCheck For(BackupManifest manifest, ManifestFile file)
        {
            if (!string.Equals(manifest.Kind, ZkBackup.Kind, StringComparison.OrdinalIgnoreCase)) return null;
            string name = file.Path.Substring(file.Path.LastIndexOf('/') + 1);
            // Compressed snapshots (snapshot.<zxid>.gz/.snappy) carry their codec's header instead.
            if (System.Text.RegularExpressions.Regex.IsMatch(name, "^snapshot\\.[0-9a-f]+$")) return new ZkMagicCheck(file.Path, "ZKSN");
            if (System.Text.RegularExpressions.Regex.IsMatch(name, "^log\\.[0-9a-f]+$")) return new ZkMagicCheck(file.Path, "ZKLG");
            return null;
        }
    }
}
