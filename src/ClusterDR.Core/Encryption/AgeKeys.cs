using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace ClusterDR.Encryption
{
    /// <summary>An age X25519 recipient: the public key a backup is encrypted to ("age1…").</summary>
    public sealed class AgeRecipient
    {
        private AgeRecipient(byte[] key) { PublicKey = key; }

        internal byte[] PublicKey { get; }

        public override string ToString() => Bech32.Encode("age", PublicKey, upper: false);

        /// <summary>Parses "age1…"; EncryptionKeyInvalid otherwise (the message shows the value: a recipient is public).</summary>
        public static AgeRecipient Parse(string text)
        {
            string t = text?.Trim();
            var d = Bech32.Decode(t);
            if (d == null || d.Value.Hrp != "age" || d.Value.Data.Length != 32 || t != t.ToLowerInvariant())
                throw new ClusterDrException(ErrorIds.EncryptionKeyInvalid, ErrorKind.InvalidArgument,
                    $"'{text}' is not an age recipient: a recipient is a public key of the form age1… (age-keygen -y key.txt, or New-ClusterBackupKey, prints it).", text);
            return new AgeRecipient(d.Value.Data);
        }

        /// <summary>Recipients from the values of -Recipient: blank values and '#' comments (as in a recipients file) are skipped.</summary>
        public static IList<AgeRecipient> ParseAll(IEnumerable<string> values) =>
            values.SelectMany(v => (v ?? "").Split('\n'))
                  .Select(v => v.Trim()).Where(v => v.Length > 0 && !v.StartsWith("#", StringComparison.Ordinal))
                  .Select(Parse).ToList();

        internal static AgeRecipient FromKey(byte[] publicKey) => new AgeRecipient(publicKey);
    }

    /// <summary>An age X25519 identity: the secret key that opens backups encrypted to its recipient ("AGE-SECRET-KEY-1…").</summary>
    public sealed class AgeIdentity
    {
        private readonly byte[] _secret;

        private AgeIdentity(byte[] secret)
        {
            _secret = secret;
            Recipient = AgeRecipient.FromKey(AgePrimitives.X25519Base(secret));
        }

        public AgeRecipient Recipient { get; }

        /// <summary>A new random identity.</summary>
        public static AgeIdentity Generate() => new AgeIdentity(AgePrimitives.Random(32));

        /// <summary>The secret's text form, for an identity file only: never for a message or a log.</summary>
        internal string Secret => Bech32.Encode("AGE-SECRET-KEY-", _secret, upper: true);

        /// <summary>
        /// The identities in the text of an identity file (age-keygen's format: "AGE-SECRET-KEY-1…" lines, '#'
        /// comments). <paramref name="source"/> names the file in errors; the text itself never appears in one.
        /// </summary>
        public static IList<AgeIdentity> ParseFile(string text, string source)
        {
            var found = new List<AgeIdentity>();
            int n = 0;
            foreach (var raw in (text ?? "").Split('\n'))
            {
                n++;
                string l = raw.Trim();
                if (l.Length == 0 || l.StartsWith("#", StringComparison.Ordinal)) continue;
                var d = Bech32.Decode(l);
                if (d == null || d.Value.Hrp != "age-secret-key-" || d.Value.Data.Length != 32)
                    throw new ClusterDrException(ErrorIds.EncryptionKeyInvalid, ErrorKind.InvalidArgument,
                        $"{source}, line {n}, is not an age identity: an identity file holds AGE-SECRET-KEY-1… lines (age-keygen or New-ClusterBackupKey writes one; a passphrase-protected one is not supported). The line is not shown: it may be secret.", source);
                found.Add(new AgeIdentity(d.Value.Data));
            }
            if (found.Count == 0)
                throw new ClusterDrException(ErrorIds.EncryptionKeyInvalid, ErrorKind.InvalidArgument, $"{source} holds no age identity (AGE-SECRET-KEY-1… line).", source);
            return found;
        }

        /// <summary>The file key an X25519 stanza wraps for this identity, or null when it is for someone else.</summary>
        internal byte[] Unwrap(AgeStanza s)
        {
            if (s.Type != "X25519" || s.Args.Length != 1) return null;
            var share = AgePrimitives.FromB64(s.Args[0]);
            if (share == null || share.Length != 32) return null;
            var shared = AgePrimitives.X25519(_secret, share);
            if (shared.All(b => b == 0)) return null;
            var salt = share.Concat(Recipient.PublicKey).ToArray();
            return AgePrimitives.Unwrap(AgePrimitives.Hkdf(shared, salt, "age-encryption.org/v1/X25519"), s.Body);
        }

        internal static AgeStanza Wrap(AgeRecipient r, byte[] fileKey)
        {
            var ephemeral = AgePrimitives.Random(32);
            var share = AgePrimitives.X25519Base(ephemeral);
            var shared = AgePrimitives.X25519(ephemeral, r.PublicKey);
            var salt = share.Concat(r.PublicKey).ToArray();
            var body = AgePrimitives.Wrap(AgePrimitives.Hkdf(shared, salt, "age-encryption.org/v1/X25519"), fileKey);
            return new AgeStanza("X25519", new[] { AgePrimitives.B64(share) }, body);
        }
    }

    /// <summary>What a backup is encrypted to, chosen at backup time: one or more recipients, or a passphrase.</summary>
    public sealed class AgeEncryption
    {
        /// <summary>age's own work factor for a passphrase: 2^18 scrypt (about a second and 256 MB, once per backup).</summary>
        internal const int WorkFactor = 18;

        private AgeEncryption(IList<AgeRecipient> recipients, byte[] passphrase)
        {
            Recipients = recipients;
            _passphrase = passphrase;
        }

        private readonly byte[] _passphrase;
        public IList<AgeRecipient> Recipients { get; }
        public bool UsesPassphrase => _passphrase != null;

        public static AgeEncryption ToRecipients(IList<AgeRecipient> recipients)
        {
            if (recipients == null || recipients.Count == 0)
                throw new ClusterDrException(ErrorIds.EncryptionKeyInvalid, ErrorKind.InvalidArgument, "No recipient was given to encrypt the backup to.");
            return new AgeEncryption(recipients, null);
        }

        /// <summary>A passphrase (its UTF-8 bytes); age allows no other recipient beside it.</summary>
        public static AgeEncryption WithPassphrase(string passphrase)
        {
            if (string.IsNullOrEmpty(passphrase))
                throw new ClusterDrException(ErrorIds.EncryptionKeyInvalid, ErrorKind.InvalidArgument, "The passphrase is empty.");
            return new AgeEncryption(new AgeRecipient[0], Encoding.UTF8.GetBytes(passphrase));
        }

        /// <summary>One stanza per recipient, or the single scrypt stanza.</summary>
        internal IList<AgeStanza> Stanzas(byte[] fileKey)
        {
            if (_passphrase == null) return Recipients.Select(r => AgeIdentity.Wrap(r, fileKey)).ToList();
            var salt = AgePrimitives.Random(16);
            var key = AgePrimitives.Scrypt(_passphrase, Encoding.ASCII.GetBytes("age-encryption.org/v1/scrypt").Concat(salt).ToArray(), WorkFactor);
            return new[] { new AgeStanza("scrypt", new[] { AgePrimitives.B64(salt), WorkFactor.ToString(System.Globalization.CultureInfo.InvariantCulture) }, AgePrimitives.Wrap(key, fileKey)) };
        }

        public override string ToString() => UsesPassphrase ? "a passphrase" : string.Join(", ", Recipients);
    }

    /// <summary>What opens encrypted backups: identities (from files or text) and a passphrase, tried in that order.</summary>
    public sealed class AgeKeyring
    {
        /// <summary>The largest scrypt work factor accepted, as age's own default: a file cannot make us spend minutes.</summary>
        internal const int MaxWorkFactor = 22;

        private readonly byte[] _passphrase;

        public AgeKeyring(IEnumerable<AgeIdentity> identities, string passphrase)
        {
            Identities = (identities ?? new AgeIdentity[0]).ToList();
            _passphrase = string.IsNullOrEmpty(passphrase) ? null : Encoding.UTF8.GetBytes(passphrase);
        }

        public IList<AgeIdentity> Identities { get; }
        public bool HasPassphrase => _passphrase != null;

        /// <summary>The file key one of the stanzas wraps for these keys, or null.</summary>
        internal byte[] Unwrap(IReadOnlyList<AgeStanza> stanzas)
        {
            foreach (var id in Identities)
                foreach (var s in stanzas)
                {
                    var k = id.Unwrap(s);
                    if (k != null) return k;
                }
            if (_passphrase == null) return null;
            foreach (var s in stanzas)
            {
                if (s.Type != "scrypt" || s.Args.Length != 2) continue;
                var salt = AgePrimitives.FromB64(s.Args[0]);
                if (salt == null || salt.Length != 16 || !int.TryParse(s.Args[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int logN)) continue;
                if (logN < 1 || logN > MaxWorkFactor) continue;
                var key = AgePrimitives.Scrypt(_passphrase, Encoding.ASCII.GetBytes("age-encryption.org/v1/scrypt").Concat(salt).ToArray(), logN);
                var k = AgePrimitives.Unwrap(key, s.Body);
                if (k != null) return k;
            }
            return null;
        }

        /// <summary>Reads an identity file: its path appears in errors, its content never.</summary>
        public static IList<AgeIdentity> ReadIdentityFile(string path)
        {
            string text;
            try { text = File.ReadAllText(path); }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                throw new ClusterDrException(ErrorIds.EncryptionKeyInvalid, ErrorKind.InvalidArgument,
                    ex is FileNotFoundException || ex is DirectoryNotFoundException ? $"There is no identity file at '{path}'." : $"The identity file '{path}' cannot be read by this account.", path, ex);
            }
            return AgeIdentity.ParseFile(text, $"The identity file '{path}'");
        }
    }
}

namespace ClusterDR.Encryption
{
    /// <summary>An identity file New-ClusterBackupKey wrote: where it is and the recipient that encrypts to it (public).</summary>
    public sealed class BackupKeyFile
    {
        public BackupKeyFile(string path, AgeRecipient recipient)
        {
            Path = path;
            Recipient = recipient.ToString();
        }

        public string Path { get; }
        /// <summary>The age1… public key to give Backup- cmdlets' -Recipient (and age -r).</summary>
        public string Recipient { get; }

        /// <summary>
        /// Writes a new identity in age-keygen's format, owner-only (0600) from its first byte, never over a file that is
        /// there: an identity lost to an overwrite is every backup encrypted to it lost.
        /// </summary>
        public static BackupKeyFile Create(string path)
        {
            var id = AgeIdentity.Generate();
            string full = System.IO.Path.GetFullPath(path);
            var dir = System.IO.Path.GetDirectoryName(full);
            System.IO.FileStream f;
            try
            {
                if (!string.IsNullOrEmpty(dir)) System.IO.Directory.CreateDirectory(dir);
                f = new System.IO.FileStream(full, System.IO.FileMode.CreateNew, System.IO.FileAccess.Write, System.IO.FileShare.None);
            }
            catch (System.IO.IOException) when (System.IO.File.Exists(full))
            {
                throw new ClusterDrException(ErrorIds.BackupExists, ErrorKind.ResourceExists, $"'{full}' exists already; an identity file is never overwritten (the backups encrypted to it would be lost).", full);
            }
            catch (System.Exception ex) when (ex is System.IO.IOException || ex is System.UnauthorizedAccessException)
            {
                throw new ClusterDrException(ErrorIds.KeyFileNotWritten, ErrorKind.PermissionDenied, $"The identity file '{full}' cannot be created there: the folder is missing or this account may not write to it.", full, ex);
            }
            using (f)
            {
                FileModes.TrySetOwnerOnly(full);
                var text = System.Text.Encoding.ASCII.GetBytes(
                    $"# created: {System.DateTime.UtcNow:yyyy-MM-ddTHH:mm:ssZ} by ClusterDR\n# public key: {id.Recipient}\n{id.Secret}\n");
                f.Write(text, 0, text.Length);
                f.Flush(true);
            }
            return new BackupKeyFile(full, id.Recipient);
        }
    }
}
