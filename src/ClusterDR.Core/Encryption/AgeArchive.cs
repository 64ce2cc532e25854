using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using ClusterDR.Backups;

namespace ClusterDR.Encryption
{
    /// <summary>
    /// One archive being encrypted: its file key, the stanzas that wrap it (computed once: a passphrase's scrypt
    /// costs a second), and the clear metadata the header will carry once the manifest is known.
    /// </summary>
    internal sealed class AgeArchive
    {
        /// <summary>What an encrypted archive's name ends in, after .tar.zst or .tar.gz.</summary>
        public const string Ext = ".age";

        private readonly byte[] _fileKey = AgePrimitives.Random(16);
        private readonly IList<AgeStanza> _stanzas;
        private readonly ClearMetadata _clear = new ClearMetadata { Kind = "", Cluster = "", Label = "", ToolVersion = "" };

        public AgeArchive(AgeEncryption encryption)
        {
            Encryption = encryption;
            _stanzas = encryption.Stanzas(_fileKey);
        }

        public AgeEncryption Encryption { get; }

        /// <summary>The header for a plaintext of <paramref name="length"/> bytes; its size never depends on the values.</summary>
        private byte[] Header(long length)
        {
            var stanzas = new List<AgeStanza>(_stanzas);
            // age allows nothing beside a passphrase's stanza: such a backup lists from its name.
            if (!Encryption.UsesPassphrase)
            {
                _clear.Length = length;
                stanzas.Add(_clear.ToStanza());
            }
            return AgeHeader.Encode(stanzas, _fileKey);
        }

        public Stream Encrypt(Stream raw, int hold) => new AgeEncryptStream(raw, _fileKey, Header, hold);

        /// <summary>Records what the clear metadata says (the manifest's kind, cluster, label and time).</summary>
        public void Describe(BackupManifest m)
        {
            _clear.Kind = m.Kind;
            _clear.Cluster = m.Cluster;
            _clear.Label = m.Label;
            _clear.CreatedUtc = m.CreatedUtc;
            _clear.ToolVersion = string.IsNullOrEmpty(m.ToolVersion) ? BackupManifest.ToolVersionString : m.ToolVersion;
        }

        public void Finish(Stream output) => ((AgeEncryptStream)output).Finish();
    }
}
