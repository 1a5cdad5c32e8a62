//! The CA mock's body: `POST /mocks/ca/admin/records` (answered with
//! [`super::smev::RecordsAdded`]). `GET /mocks/ca/certificates/{serial}` answers the agency's
//! [`crate::agency::ca::Certificate`].

use crate::agency::ca::Certificate;
use serde::Deserialize;

/// `POST /mocks/ca/admin/records`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = CertificateRecords)]
pub struct Records {
    pub records: Vec<Certificate>,
}
