using System;
using System.Globalization;
using System.IO;
using System.Text;

namespace ClusterDR.Backups
{
    /// <summary>
    /// Reads a decimal size on a first line ("123456\n", as `wc -c` prints it, blanks allowed), hands it
    /// to <c>onSize</c> before any payload byte, then passes the rest through. Lets a remote command
    /// announce a file's size so that it streams into the archive in one pass.
    /// </summary>
    public sealed class SizeLineStream : WriteOnlyStream
    {
        private const int MaxLine = 64;
        private readonly Stream _inner;
        private readonly Action<long> _onSize;
        private readonly StringBuilder _line = new StringBuilder();
        private bool _seen;

        public SizeLineStream(Stream inner, Action<long> onSize) { _inner = inner; _onSize = onSize; }

        public override void Write(byte[] buffer, int offset, int count)
        {
            while (!_seen && count > 0)
            {
                char c = (char)buffer[offset++];
                count--;
                if (c == '\n')
                {
                    if (!long.TryParse(_line.ToString().Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long size))
                        throw Bad($"'{_line.ToString().Trim()}' is not a size");
                    _seen = true;
                    _onSize(size);
                }
                else if (_line.Length >= MaxLine) throw Bad("no size line");
                else _line.Append(c);
            }
            if (count > 0) _inner.Write(buffer, offset, count);
        }

        /// <summary>Throws when the stream ended before its size line (the command printed nothing useful).</summary>
        public void EnsureSizeSeen()
        {
            if (!_seen) throw Bad("the output ended before the size line");
        }

        public override void Flush() => _inner.Flush();

        private static ClusterDrException Bad(string why) =>
            new ClusterDrException(ErrorIds.PayloadSizeMismatch, ErrorKind.InvalidData, $"The node's snapshot stream did not start with the file's size: {why}.", null);
    }
}
