using System;
using System.IO;
using System.Linq;
using System.Text;
using ClusterDR.Stores;
using Newtonsoft.Json;

namespace ClusterDR.Encryption
{
    /// <summary>
    /// What can be said of an age-encrypted backup, with its key or without: its header (recipients' stanzas, never
    /// a key), the clear metadata ClusterDR puts there, and, once unlocked, its plaintext read whole or by chunk
    /// (the head and the tail a listing and a reader need, without reading the rest).
    /// </summary>
    internal sealed class AgeFile
    {
        public static readonly byte[] Magic = Encoding.ASCII.GetBytes("age-encr");

        private byte[] _fileKey;
        private byte[] _payloadKey;

        private AgeFile(BackupLocation location, long length, AgeHeader header, ClearMetadata clear)
        {
            Location = location;
            FileLength = length;
            Header = header;
            Clear = clear;
        }

        public BackupLocation Location { get; }
        public long FileLength { get; }
        public AgeHeader Header { get; }
        /// <summary>ClusterDR's clear metadata stanza; null in a file age made (from one of ours) or one encrypted with a passphrase.</summary>
        public ClearMetadata Clear { get; }
        public bool UsesPassphrase => Header.Stanzas.Any(s => s.Type == "scrypt");
        public bool Unlocked => _fileKey != null;
        /// <summary>The plaintext (archive) length, -1 when the file's length fits no age payload (cut short).</summary>
        public long PlainLength => AgePayload.PlainLength(FileLength - Header.Length - AgePayload.NonceLength);

        public static bool IsAge(byte[] head) => head.Length >= Magic.Length && head.Take(Magic.Length).SequenceEqual(Magic);

        /// <summary>Parses the header at the front of the object (ranged reads; no key needed).</summary>
        public static AgeFile Open(BackupLocation location, long length)
        {
            // 16 KiB holds the header of a hundred recipients: one small ranged read per backup in a listing.
            AgeHeader header = ReadHeader(location, Math.Min(length, 16 << 10));
            if (header == null && length > 16 << 10) header = ReadHeader(location, Math.Min(length, AgeHeader.MaxLength));
            if (header == null)
                throw new ClusterDrException(ErrorIds.ManifestInvalid, ErrorKind.InvalidData,
                    $"'{location.Display}' starts like an age file but its header is damaged, so it cannot be opened (by ClusterDR or age).", location.Display);
            return new AgeFile(location, length, header, ClearMetadata.From(header));
        }

        private static AgeHeader ReadHeader(BackupLocation location, long count)
        {
            using (var s = new BufferedStream(location.Store.OpenRead(location.Key, 0, count, default), 1 << 14)) return AgeHeader.Read(s);
        }

        /// <summary>Finds the file key among the keys; BackupKeyRequired or BackupKeyMismatch otherwise, ArchiveCorrupt when the header was altered.</summary>
        public void Unlock(AgeKeyring keys)
        {
            string d = Location.Display;
            string how = UsesPassphrase ? "a passphrase (-Passphrase)" : "recipients' keys (-DecryptionKeyFile or -DecryptionKey)";
            if (keys == null || (keys.Identities.Count == 0 && !keys.HasPassphrase))
                throw new ClusterDrException(ErrorIds.BackupKeyRequired, ErrorKind.SecurityError,
                    $"'{d}' is encrypted (age) to {how}; give it to read the backup.", d);
            if (UsesPassphrase && Header.Stanzas.Count != 1)
                throw new ClusterDrException(ErrorIds.ArchiveCorrupt, ErrorKind.InvalidData, $"'{d}' has a passphrase stanza beside others, which age forbids: its header was altered.", d);
            var fileKey = keys.Unwrap(Header.Stanzas);
            if (fileKey == null)
                throw new ClusterDrException(ErrorIds.BackupKeyMismatch, ErrorKind.SecurityError,
                    $"None of the keys given opens '{d}': it is encrypted to {how}" + (UsesPassphrase ? " and the passphrase is not that one." : ", and no identity given matches a recipient of it."), d);
            if (!Header.Verifies(fileKey))
                throw new ClusterDrException(ErrorIds.ArchiveCorrupt, ErrorKind.InvalidData, $"'{d}' has an age header that fails its MAC: it was altered after it was written. Nothing of it is used.", d);
            _fileKey = fileKey;
            if (PlainLength < 0)
                throw new ClusterDrException(ErrorIds.ArchiveCorrupt, ErrorKind.InvalidData, $"'{d}' is not a whole encrypted backup: it ends in the middle of its encrypted data (cut short).", d);
            var nonce = Read(Header.Length, AgePayload.NonceLength);
            _payloadKey = AgePayload.Key(fileKey, nonce);
        }

        /// <summary>The plaintext of the whole file, over <paramref name="raw"/> (the object from its first byte).</summary>
        public Stream OpenPlain(Stream raw) => new AgeDecryptStream(raw, _fileKey, Header.Length, Location.Display);

        /// <summary>Up to <paramref name="count"/> plaintext bytes from the front (chunk 0 only).</summary>
        public byte[] PlainHead(int count)
        {
            var c = Chunk(0);
            return c.Take(count).ToArray();
        }

        /// <summary>The last <paramref name="count"/> plaintext bytes (fewer when the plaintext is shorter).</summary>
        public byte[] PlainTail(int count)
        {
            long chunks = ChunkCount;
            var tail = Chunk(chunks - 1);
            if (tail.Length < count && chunks > 1) tail = Chunk(chunks - 2).Concat(tail).ToArray();
            return tail.Skip(Math.Max(0, tail.Length - count)).ToArray();
        }

        private long ChunkCount => (FileLength - Header.Length - AgePayload.NonceLength + AgePayload.Sealed - 1) / AgePayload.Sealed;

        private byte[] Chunk(long index)
        {
            bool last = index == ChunkCount - 1;
            long start = Header.Length + AgePayload.NonceLength + index * AgePayload.Sealed;
            var sealedBytes = Read(start, (int)Math.Min(AgePayload.Sealed, FileLength - start));
            var plain = new byte[Math.Max(0, sealedBytes.Length - 16)];
            if (sealedBytes.Length < 16 || !AgePrimitives.Seal(false, _payloadKey, AgePayload.ChunkNonce(index, last), sealedBytes, 0, sealedBytes.Length, plain, 0))
                throw new ClusterDrException(ErrorIds.ArchiveCorrupt, ErrorKind.InvalidData,
                    $"'{Location.Display}' is not a whole encrypted backup: encrypted chunk {index} fails authentication (cut short, damaged or tampered with). Nothing of it is used.", Location.Display);
            return plain;
        }

        private byte[] Read(long offset, int count)
        {
            var b = new byte[count];
            int n = 0;
            using (var s = Location.Store.OpenRead(Location.Key, offset, count, default))
                for (int r; n < count && (r = s.Read(b, n, count - n)) > 0;) n += r;
            if (n != count) Array.Resize(ref b, n);
            return b;
        }
    }

    /// <summary>
    /// The clear metadata a ClusterDR-encrypted backup carries in its age header (a stanza of its own type, which age
    /// ignores): kind, cluster, label, creation time, format and length, so that listing and retention work without
    /// the key. Nothing else is in clear. The header's MAC covers it, so a restore proves it unaltered.
    /// </summary>
    internal sealed class ClearMetadata
    {
        public const string StanzaType = "clusterdr-backup";
        /// <summary>The stanza's body is padded to this size, so the header's length is known before the backup's.</summary>
        private const int BodyLength = 480;

        [JsonProperty("kind")] public string Kind { get; set; }
        [JsonProperty("cluster")] public string Cluster { get; set; }
        [JsonProperty("label")] public string Label { get; set; }
        [JsonProperty("createdUtc")] public DateTime CreatedUtc { get; set; }
        [JsonProperty("toolVersion")] public string ToolVersion { get; set; }
        /// <summary>The archive's (plaintext) length, which a listing checks against the file's.</summary>
        [JsonProperty("length")] public long Length { get; set; }

        public AgeStanza ToStanza()
        {
            var json = Encoding.UTF8.GetBytes(JsonConvert.SerializeObject(this));
            if (json.Length > BodyLength) throw new InvalidOperationException("The clear metadata outgrew its stanza.");
            var body = Enumerable.Repeat((byte)' ', BodyLength).ToArray();
            Buffer.BlockCopy(json, 0, body, 0, json.Length);
            return new AgeStanza(StanzaType, new string[0], body);
        }

        public static ClearMetadata From(AgeHeader header)
        {
            var s = header.Stanzas.FirstOrDefault(x => x.Type == StanzaType);
            if (s == null) return null;
            try { return JsonConvert.DeserializeObject<ClearMetadata>(Encoding.UTF8.GetString(s.Body).Trim()); }
            catch (JsonException) { return null; }
        }
    }
}
