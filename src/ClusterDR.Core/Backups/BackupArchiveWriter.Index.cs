namespace ClusterDR.Backups
{
    public sealed partial class BackupArchiveWriter
    {
        private PayloadIndexWriter _index;

        /// <summary>
        /// Payload files under <paramref name="roots"/> (folders, '/'-terminated) are listed in the payload index
        /// <paramref name="indexPath"/> instead of manifest.json, and nothing per file is kept in memory: for backups of
        /// very many files. They must stream (declare their length); the index is added at the commit.
        /// </summary>
        public void IndexPayloadsUnder(string indexPath, params string[] roots)
        {
            if (_index != null) throw new System.InvalidOperationException("This archive has its payload index already.");
            _index = new PayloadIndexWriter(indexPath, roots);
        }

        private bool Indexed(string path) => _index != null && _index.Covers(path);

        /// <summary>Called while the entry still holds the archive: the index's lines come in archive order.</summary>
        private void RecordIndexed(ManifestFile entry)
        {
            try { _index.Record(entry); }
            catch
            {
                _broken = true; // the entry is in the archive but not in the index
                throw;
            }
        }
    }
}
