//! Writes ZIP archives, the container of .docx and .xlsx files.
//!
//! Every entry is STORED (no compression), its name is flagged as UTF-8 (general purpose bit
//! 11), and its modification time is the fixed DOS time 1980-01-01 00:00, so the same entries
//! always give byte-identical archives. The layout is the classic one: a local header and the
//! data for each entry in the order given, then the central directory, then the end record.
//! ZIP64 is not written, so an archive is limited to 65,535 entries and 4 GiB.

/// General purpose flag bit 11: file names are UTF-8.
const FLAG_UTF8: u16 = 1 << 11;
/// Version needed to extract (2.0), also used as "version made by" (MS-DOS attributes).
const VERSION: u16 = 20;
/// DOS time 00:00:00.
const DOS_TIME: u16 = 0;
/// DOS date 1980-01-01: (year - 1980) << 9 | month << 5 | day.
const DOS_DATE: u16 = (1 << 5) | 1;

/// The CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) lookup table, built at compile time.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// The CRC-32 of `data` as ZIP stores it (`crc32(b"123456789") == 0xCBF43926`).
pub fn crc32(data: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in data {
        c = CRC_TABLE[((c ^ b as u32) & 0xFF) as usize] ^ (c >> 8);
    }
    c ^ 0xFFFF_FFFF
}

/// Builds a ZIP archive holding `entries` (name, contents) in the given order. Names should
/// use `/` as the separator and be unique; they are written as given.
///
/// # Panics
///
/// When the archive would need ZIP64: more than 65,535 entries, a name longer than 65,535
/// bytes, or an entry or archive of 4 GiB or more.
pub fn write(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let count = u16::try_from(entries.len()).expect("too many ZIP entries (ZIP64 is not written)");
    let data_len: usize = entries.iter().map(|(n, d)| 30 + n.len() + d.len()).sum();
    let dir_len: usize = entries.iter().map(|(n, _)| 46 + n.len()).sum();
    let mut out = Vec::with_capacity(data_len + dir_len + 22);
    let mut dir = Vec::with_capacity(dir_len);

    for (name, data) in entries {
        let offset = u32_of(out.len());
        let crc = crc32(data);
        let size = u32_of(data.len());
        let name_len = u16::try_from(name.len()).expect("ZIP entry name too long");

        // Local file header.
        put32(&mut out, 0x0403_4B50);
        put16(&mut out, VERSION);
        put16(&mut out, FLAG_UTF8);
        put16(&mut out, 0); // method: stored
        put16(&mut out, DOS_TIME);
        put16(&mut out, DOS_DATE);
        put32(&mut out, crc);
        put32(&mut out, size); // compressed size
        put32(&mut out, size); // uncompressed size
        put16(&mut out, name_len);
        put16(&mut out, 0); // extra field length
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);

        // Central directory header.
        put32(&mut dir, 0x0201_4B50);
        put16(&mut dir, VERSION); // made by
        put16(&mut dir, VERSION); // needed to extract
        put16(&mut dir, FLAG_UTF8);
        put16(&mut dir, 0);
        put16(&mut dir, DOS_TIME);
        put16(&mut dir, DOS_DATE);
        put32(&mut dir, crc);
        put32(&mut dir, size);
        put32(&mut dir, size);
        put16(&mut dir, name_len);
        put16(&mut dir, 0); // extra field length
        put16(&mut dir, 0); // comment length
        put16(&mut dir, 0); // disk number start
        put16(&mut dir, 0); // internal attributes
        put32(&mut dir, 0); // external attributes
        put32(&mut dir, offset);
        dir.extend_from_slice(name.as_bytes());
    }

    let dir_offset = u32_of(out.len());
    let dir_size = u32_of(dir.len());
    out.extend_from_slice(&dir);
    // End of central directory record.
    put32(&mut out, 0x0605_4B50);
    put16(&mut out, 0); // this disk
    put16(&mut out, 0); // disk with the central directory
    put16(&mut out, count); // entries on this disk
    put16(&mut out, count); // entries in total
    put32(&mut out, dir_size);
    put32(&mut out, dir_offset);
    put16(&mut out, 0); // comment length
    out
}

fn u32_of(n: usize) -> u32 {
    u32::try_from(n).expect("ZIP archive too large (ZIP64 is not written)")
}

fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Reads an archive written by [`write`] back through its central directory, checking every
/// header field this module writes. For the tests of all the writers.
#[cfg(test)]
pub(crate) fn read(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
    let u16_at = |p: usize| u16::from_le_bytes([zip[p], zip[p + 1]]) as usize;
    let u32_at = |p: usize| u32::from_le_bytes(zip[p..p + 4].try_into().unwrap()) as usize;
    let end = zip.len() - 22;
    assert_eq!(u32_at(end), 0x0605_4B50, "end record");
    let count = u16_at(end + 10);
    assert_eq!(u16_at(end + 8), count);
    let (dir_size, dir_offset) = (u32_at(end + 12), u32_at(end + 16));
    assert_eq!(
        dir_offset + dir_size,
        end,
        "central directory ends at the end record"
    );
    let mut p = dir_offset;
    let mut out = Vec::new();
    for _ in 0..count {
        assert_eq!(u32_at(p), 0x0201_4B50, "central header");
        assert_eq!(u16_at(p + 8), FLAG_UTF8 as usize);
        assert_eq!(u16_at(p + 10), 0, "stored");
        assert_eq!(
            (u16_at(p + 12), u16_at(p + 14)),
            (0, 0x21),
            "1980-01-01 00:00"
        );
        let crc = u32_at(p + 16) as u32;
        let size = u32_at(p + 20);
        assert_eq!(u32_at(p + 24), size);
        let name_len = u16_at(p + 28);
        let name = std::str::from_utf8(&zip[p + 46..p + 46 + name_len]).unwrap();
        let local = u32_at(p + 42);
        // The local header repeats the same fields.
        assert_eq!(u32_at(local), 0x0403_4B50, "local header");
        assert_eq!(zip[local + 6..local + 26], zip[p + 8..p + 28]);
        assert_eq!(u16_at(local + 26), name_len);
        assert_eq!(&zip[local + 30..local + 30 + name_len], name.as_bytes());
        let data = &zip[local + 30 + name_len..local + 30 + name_len + size];
        assert_eq!(crc32(data), crc, "CRC of {name}");
        out.push((name.to_string(), data.to_vec()));
        p += 46 + name_len;
    }
    assert_eq!(p, end);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_check_values() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
        assert_eq!(
            crc32(b"The quick brown fox jumps over the lazy dog"),
            0x414F_A339
        );
    }

    #[test]
    fn round_trips_through_the_central_directory() {
        let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let entries: Vec<(&str, &[u8])> = vec![
            ("[Content_Types].xml", b"<Types/>"),
            ("empty", b""),
            ("目录/文件.txt", "应急".as_bytes()),
            ("big.bin", &big),
        ];
        let zip = write(&entries);
        let back = read(&zip);
        assert_eq!(back.len(), entries.len());
        for ((n, d), (bn, bd)) in entries.iter().zip(&back) {
            assert_eq!(n, bn);
            assert_eq!(*d, bd.as_slice());
        }
        // Deterministic.
        assert_eq!(write(&entries), zip);
    }

    #[test]
    fn empty_archive_is_just_the_end_record() {
        let zip = write(&[]);
        assert_eq!(zip.len(), 22);
        assert!(read(&zip).is_empty());
    }
}
