//! The free addresses of one subnet as a set of disjoint intervals, so the lowest free address
//! is found in O(log n) whatever the number of used ones. Kept in memory, rebuilt from the IP
//! index at start-up; the index in sled stays the source of truth.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreeRanges {
    /// start -> end (inclusive) of each free interval
    spans: BTreeMap<u32, u32>,
    free: u32,
}

impl FreeRanges {
    /// Every address from `first` to `last` free.
    pub fn new(first: Ipv4Addr, last: Ipv4Addr) -> Self {
        let (a, b) = (u32::from(first), u32::from(last));
        let mut spans = BTreeMap::new();
        if a <= b {
            spans.insert(a, b);
        }
        FreeRanges {
            spans,
            free: b.saturating_sub(a) + u32::from(a <= b),
        }
    }

    pub fn free_count(&self) -> u32 {
        self.free
    }

    pub fn lowest(&self) -> Option<Ipv4Addr> {
        self.spans.keys().next().map(|&a| Ipv4Addr::from(a))
    }

    pub fn is_free(&self, ip: Ipv4Addr) -> bool {
        let x = u32::from(ip);
        self.spans
            .range(..=x)
            .next_back()
            .is_some_and(|(_, &end)| end >= x)
    }

    /// Marks `ip` used; false when it was not free.
    pub fn claim(&mut self, ip: Ipv4Addr) -> bool {
        let x = u32::from(ip);
        let Some((&start, &end)) = self.spans.range(..=x).next_back() else {
            return false;
        };
        if end < x {
            return false;
        }
        self.spans.remove(&start);
        if start < x {
            self.spans.insert(start, x - 1);
        }
        if x < end {
            self.spans.insert(x + 1, end);
        }
        self.free -= 1;
        true
    }

    /// Marks `ip` free again, merging with its neighbours; false when it was already free.
    pub fn release(&mut self, ip: Ipv4Addr) -> bool {
        if self.is_free(ip) {
            return false;
        }
        let x = u32::from(ip);
        let (mut start, mut end) = (x, x);
        if let Some((&s, &e)) = self.spans.range(..x).next_back() {
            if e.checked_add(1) == Some(x) {
                self.spans.remove(&s);
                start = s;
            }
        }
        if let Some(next) = x.checked_add(1) {
            if let Some(e) = self.spans.remove(&next) {
                end = e;
            }
        }
        self.spans.insert(start, end);
        self.free += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> Ipv4Addr {
        Ipv4Addr::new(10, 0, 0, last)
    }

    #[test]
    fn lowest_free_claim_and_release() {
        let mut f = FreeRanges::new(ip(2), ip(254));
        assert_eq!(f.free_count(), 253);
        assert_eq!(f.lowest(), Some(ip(2)));
        assert!(f.claim(ip(2)));
        assert!(!f.claim(ip(2)));
        assert!(f.claim(ip(4)));
        assert_eq!(f.lowest(), Some(ip(3)));
        assert!(f.claim(ip(3)));
        assert_eq!(f.lowest(), Some(ip(5)));
        assert!(f.release(ip(3)));
        assert!(!f.release(ip(3)));
        assert_eq!(f.lowest(), Some(ip(3)));
        assert!(f.release(ip(2)) && f.release(ip(4)));
        assert_eq!(
            f,
            FreeRanges::new(ip(2), ip(254)),
            "releases merge back into one span"
        );
        assert!(!f.claim(ip(1)) && !f.claim(ip(255)));
    }

    #[test]
    fn full_subnet_has_no_lowest() {
        let mut f = FreeRanges::new(ip(2), ip(14));
        for x in 2..=14 {
            assert!(f.claim(ip(x)));
        }
        assert_eq!(f.lowest(), None);
        assert_eq!(f.free_count(), 0);
        assert!(f.release(ip(9)));
        assert_eq!(f.lowest(), Some(ip(9)));
    }

    #[test]
    fn matches_a_naive_model_under_random_operations() {
        let mut f = FreeRanges::new(ip(2), ip(254));
        let mut used = [false; 256];
        let mut seed = 12345u32;
        for _ in 0..20_000 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let x = (2 + (seed >> 8) % 253) as u8;
            if seed & 1 == 0 {
                assert_eq!(f.claim(ip(x)), !used[x as usize]);
                used[x as usize] = true;
            } else {
                assert_eq!(f.release(ip(x)), used[x as usize]);
                used[x as usize] = false;
            }
            let naive = (2..=254u8).find(|&y| !used[y as usize]).map(ip);
            assert_eq!(f.lowest(), naive);
            assert_eq!(
                f.free_count() as usize,
                (2..=254).filter(|&y| !used[y]).count()
            );
        }
    }
}
