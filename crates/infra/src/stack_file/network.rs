//! `[network]`: the VPC range and the subnets carved from it, one public and one private per
//! availability zone.

use std::ops::Range;

use ipnet::Ipv4Net;
use toml_edit::TableLike;

use super::model::NetworkSpec;
use super::reader::{Reader, Table, dotted};

/// AWS accepts VPC and subnet prefixes from /16 to /28.
const LARGEST_PREFIX: u8 = 16;
const SMALLEST_PREFIX: u8 = 28;

pub(super) fn read<'a>(reader: &mut Reader<'a>, root: &'a dyn TableLike) -> NetworkSpec {
    let table = reader.table(
        root,
        "network",
        &[
            "cidr",
            "availability_zones",
            "nat_gateway",
            "subnet_prefix",
            "public_subnets",
            "private_subnets",
        ],
    );
    let cidr = vpc_cidr(reader, table);
    // At least two zones: the load balancer needs subnets in two.
    let zones = usize::try_from(reader.int(table, "availability_zones", 2, 2..=6)).unwrap_or(2);
    let nat_gateway = reader.bool(table, "nat_gateway", false);
    let subnet_prefix = reader.int(
        table,
        "subnet_prefix",
        24,
        i64::from(LARGEST_PREFIX)..=i64::from(SMALLEST_PREFIX),
    );
    let subnet_prefix = u8::try_from(subnet_prefix).unwrap_or(24);
    let public = explicit(reader, table, "public_subnets", zones, cidr);
    let private = explicit(reader, table, "private_subnets", zones, cidr);

    let Some(cidr) = cidr else {
        return NetworkSpec {
            cidr: default_cidr(),
            availability_zones: zones,
            nat_gateway,
            public_subnets: Vec::new(),
            private_subnets: Vec::new(),
            carved_prefix: None,
        };
    };
    let (carved_public, carved_private) = match carve(cidr, zones, subnet_prefix) {
        Ok(carved) => carved,
        Err(message) => {
            if public.is_none() || private.is_none() {
                let span = reader.span_of(table, "subnet_prefix");
                reader.error_at(span, "network.subnet_prefix", message);
            }
            (Vec::new(), Vec::new())
        }
    };
    let carved_prefix = (public.is_none() && private.is_none()).then_some(subnet_prefix);
    let public = public.unwrap_or(carved_public);
    let private = private.unwrap_or(carved_private);
    check_overlaps(reader, table, &public, &private);
    NetworkSpec {
        cidr,
        availability_zones: zones,
        nat_gateway,
        public_subnets: public,
        private_subnets: private,
        carved_prefix,
    }
}

/// `network.cidr`, or the default; `None` (reported) when it is not a block AWS accepts.
fn vpc_cidr<'a>(reader: &mut Reader<'a>, table: Table<'a>) -> Option<Ipv4Net> {
    match reader.string(table, "cidr") {
        None => Some(default_cidr()),
        Some(text) => {
            let span = reader.span_of(table, "cidr");
            parse_cidr(reader, &text, span, "network.cidr")
        }
    }
}

fn default_cidr() -> Ipv4Net {
    Ipv4Net::new(std::net::Ipv4Addr::new(10, 0, 0, 0), 16).unwrap_or_default()
}

fn parse_cidr(
    reader: &mut Reader<'_>,
    text: &str,
    span: Option<Range<usize>>,
    key: &str,
) -> Option<Ipv4Net> {
    let net: Ipv4Net = match text.parse() {
        Ok(net) => net,
        Err(_) => {
            reader.error_at(
                span,
                key,
                format!("{text:?} is not an IPv4 CIDR block like \"10.0.0.0/16\""),
            );
            return None;
        }
    };
    if net.trunc() != net {
        reader.error_at(
            span,
            key,
            format!("{text:?} has host bits set; the block is {}", net.trunc()),
        );
        return None;
    }
    if !(LARGEST_PREFIX..=SMALLEST_PREFIX).contains(&net.prefix_len()) {
        reader.error_at(
            span,
            key,
            format!(
                "/{} is outside what AWS allows: /16 to /28",
                net.prefix_len()
            ),
        );
        return None;
    }
    Some(net)
}

/// `public_subnets` / `private_subnets` given by hand: one per zone, inside the VPC.
fn explicit<'a>(
    reader: &mut Reader<'a>,
    table: Table<'a>,
    key: &str,
    zones: usize,
    vpc: Option<Ipv4Net>,
) -> Option<Vec<Ipv4Net>> {
    let items = reader.strings(table, key)?;
    let full = dotted(table, key);
    if items.len() != zones {
        let span = reader.span_of(table, key);
        reader.error_at(
            span,
            &full,
            format!(
                "lists {} subnets; availability_zones is {zones}, so it needs {zones}",
                items.len()
            ),
        );
    }
    let mut nets = Vec::new();
    for (text, span) in items {
        let Some(net) = parse_cidr(reader, &text, span.clone(), &full) else {
            continue;
        };
        if let Some(vpc) = vpc
            && !vpc.contains(&net)
        {
            reader.error_at(span, &full, format!("{net} is not inside the VPC's {vpc}"));
        }
        nets.push(net);
    }
    Some(nets)
}

fn check_overlaps<'a>(
    reader: &mut Reader<'a>,
    table: Table<'a>,
    public: &[Ipv4Net],
    private: &[Ipv4Net],
) {
    let all: Vec<(&str, &Ipv4Net)> = public
        .iter()
        .map(|n| ("public_subnets", n))
        .chain(private.iter().map(|n| ("private_subnets", n)))
        .collect();
    for (i, (key_a, a)) in all.iter().enumerate() {
        for (key_b, b) in &all[i + 1..] {
            if a.contains(*b) || b.contains(*a) {
                let span = reader.span_of(table, key_b);
                reader.error_at(
                    span,
                    &dotted(table, key_b),
                    format!("{b} overlaps {a} (in {key_a}); subnets must not overlap"),
                );
            }
        }
    }
}

/// Splits `vpc` into `zones` public then `zones` private subnets of `/prefix`.
pub(super) fn carve(
    vpc: Ipv4Net,
    zones: usize,
    prefix: u8,
) -> Result<(Vec<Ipv4Net>, Vec<Ipv4Net>), String> {
    let needed = 2 * zones;
    let fits = prefix >= vpc.prefix_len()
        && u32::from(prefix - vpc.prefix_len()) < 32
        && (1u64 << (prefix - vpc.prefix_len())) >= needed as u64;
    if !fits {
        return Err(format!(
            "{needed} subnets of /{prefix} (a public and a private one per zone) do not fit in {vpc}; \
             use a larger network.cidr, a longer subnet_prefix, or fewer availability_zones"
        ));
    }
    let subnets: Vec<Ipv4Net> = vpc
        .subnets(prefix)
        .map_err(|e| e.to_string())?
        .take(needed)
        .collect();
    let (public, private) = subnets.split_at(zones);
    Ok((public.to_vec(), private.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    #[test]
    fn carves_public_then_private_per_zone() {
        let (public, private) = carve(net("10.0.0.0/16"), 2, 24).unwrap();
        assert_eq!(public, [net("10.0.0.0/24"), net("10.0.1.0/24")]);
        assert_eq!(private, [net("10.0.2.0/24"), net("10.0.3.0/24")]);
    }

    #[test]
    fn refuses_subnets_that_do_not_fit() {
        assert!(carve(net("10.0.0.0/24"), 3, 26).is_err());
        assert!(carve(net("10.0.0.0/24"), 2, 26).is_ok());
        assert!(carve(net("10.0.0.0/24"), 2, 20).is_err());
    }
}
