using System;
using System.IO;
using System.Text;

namespace ClusterDR.Backups
{
    /// <summary>
    /// Follows the tar headers in the decompressed bytes on their way to SharpZipLib, whose TarInputStream
    /// silently skips an entry of a type it does not know (a FIFO, a device) and hands out the header after it
    /// instead (for a FIFO at the end: the end-of-archive block, as an entry with an empty name). The reader
    /// asks <see cref="Refused"/> after each entry, so such an entry is refused by its own name and type.
    /// </summary>
    internal sealed class TarTypeWatch : ReadOnlyStream
    {
        private const int PaxLimit = 1 << 16;
        private readonly Stream _inner;
        private readonly byte[] _header = new byte[512];
        private int _have;          // bytes of the current header collected
        private long _pos;          // decompressed bytes seen
        private long _next;         // where the next header starts
        private bool _done;         // end of archive, or framing this watch cannot follow (SharpZipLib reports it)
        private byte[] _pax;        // a pax extended header's records, for its size= override
        private long _paxAt;
        private long _paxSize = -1; // the override for the next header

        public TarTypeWatch(Stream inner) { _inner = inner; }

        /// <summary>The first entry of a type a backup never holds: its name and tar type flag.</summary>
        public (string Name, byte Type)? Refused { get; private set; }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = _inner.Read(buffer, offset, count);
            for (int at = offset, left = n; left > 0 && !_done;)
            {
                if (_pos < _next)
                {
                    int skip = (int)Math.Min(left, _next - _pos);
                    if (_pax != null)
                    {
                        long from = Math.Max(_pos, _paxAt), to = Math.Min(_pos + skip, _paxAt + _pax.Length);
                        if (to > from) Buffer.BlockCopy(buffer, at + (int)(from - _pos), _pax, (int)(from - _paxAt), (int)(to - from));
                    }
                    _pos += skip; at += skip; left -= skip;
                    continue;
                }
                int take = Math.Min(left, 512 - _have);
                Buffer.BlockCopy(buffer, at, _header, _have, take);
                _have += take; _pos += take; at += take; left -= take;
                if (_have == 512) { _have = 0; Inspect(); }
            }
            return n;
        }

        private void Inspect()
        {
            if (Array.TrueForAll(_header, b => b == 0)) { _done = true; return; }
            byte type = _header[156];
            long size = _paxSize >= 0 ? _paxSize : Size();
            _paxSize = -1;
            if (_pax != null) { _paxSize = PaxSize(); _pax = null; }
            if (size < 0) { _done = true; return; }
            if (!(type == '0' || type == 0 || type == '1' || type == '2' || type == '5' || type == 'L' || type == 'K' || type == 'x' || type == 'g' || type == 'V')
                && Refused == null)
                Refused = (Name(), type);
            if (type == 'x' && size <= PaxLimit) { _pax = new byte[size]; _paxAt = _pos; }
            _next = _pos + (size + 511) / 512 * 512;
        }

        /// <summary>The size field: octal, or base-256 (high bit set) as GNU tar and SharpZipLib write large sizes; -1 if neither.</summary>
        private long Size()
        {
            if ((_header[124] & 0x80) != 0)
            {
                long v = 0;
                for (int b = 125; b < 136; b++) v = v << 8 | _header[b];
                return v;
            }
            long octal = 0;
            int i = 124;
            while (i < 136 && _header[i] == ' ') i++;
            for (; i < 136 && _header[i] != 0 && _header[i] != ' '; i++)
            {
                if (_header[i] < '0' || _header[i] > '7') return -1;
                octal = octal * 8 + (_header[i] - '0');
            }
            return octal;
        }

        /// <summary>"size=N" from the pax records just collected, else -1.</summary>
        private long PaxSize()
        {
            string records = Encoding.UTF8.GetString(_pax);
            int at = records.IndexOf(" size=", StringComparison.Ordinal);
            if (at < 0) return -1;
            int end = records.IndexOf('\n', at);
            return long.TryParse(records.Substring(at + 6, (end < 0 ? records.Length : end) - at - 6), out long v) ? v : -1;
        }

        private string Name()
        {
            string name = Field(0, 100);
            bool ustar = _header[257] == 'u' && _header[258] == 's' && _header[259] == 't' && _header[260] == 'a' && _header[261] == 'r';
            string prefix = ustar && _header[262] == 0 ? Field(345, 155) : ""; // POSIX ustar; GNU's "ustar  " has no prefix field
            return prefix.Length > 0 ? prefix + "/" + name : name;
        }

        private string Field(int at, int length)
        {
            int n = 0;
            while (n < length && _header[at + n] != 0) n++;
            return Encoding.UTF8.GetString(_header, at, n);
        }
    }
}
